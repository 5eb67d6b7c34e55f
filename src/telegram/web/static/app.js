// The Mini App: the reader (members) and the dashboard (administrators).
// No framework, no build step: plain DOM, text set with textContent only.
"use strict";

(function () {
  const tg = (window.Telegram && window.Telegram.WebApp) || null;
  const initData = tg ? tg.initData || "" : "";
  const startParam = tg && tg.initDataUnsafe ? tg.initDataUnsafe.start_param || "" : "";
  const $ = (id) => document.getElementById(id);
  const FONT_KEY = "studybot_font";
  const FONTS = [15, 16, 18, 20, 22, 25, 28];

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function show(id) {
    for (const s of ["loading", "error", "reader", "dashboard"]) $(s).hidden = s !== id;
  }

  function fail(text) {
    $("error-text").textContent = text;
    show("error");
  }

  const REASONS = {
    401: "身份验证失败：请关闭本页面，从 Telegram 里的学习机器人重新打开。",
    403: "你不是这个群的成员（或这一页只给群管理员看）。",
    503: "暂时无法打开，请稍后再试。",
  };

  async function api(path, options) {
    const response = await fetch(path, Object.assign({
      headers: { "Authorization": "tma " + initData, "Content-Type": "application/json" },
    }, options || {}));
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!response.ok && !(body && "sent" in body)) {
      const reason = (body && body.error) || response.status;
      const error = new Error((REASONS[response.status] || "出错了，请稍后再试。") + "（" + reason + "）");
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // Font size: Telegram's CloudStorage (follows the user across devices), else localStorage.
  function loadFont(done) {
    const local = parseInt(localStorage.getItem(FONT_KEY) || "", 10);
    const apply = (v) => { if (FONTS.includes(v)) setFont(v, false); done(); };
    if (tg && tg.CloudStorage && tg.isVersionAtLeast && tg.isVersionAtLeast("6.9")) {
      try {
        tg.CloudStorage.getItem(FONT_KEY, (err, value) => apply(err ? local : parseInt(value || "", 10) || local));
        return;
      } catch (_) { /* fall through */ }
    }
    apply(local);
  }

  let font = 18;
  function setFont(value, save) {
    font = value;
    document.documentElement.style.setProperty("--font", value + "px");
    if (!save) return;
    localStorage.setItem(FONT_KEY, String(value));
    if (tg && tg.CloudStorage && tg.isVersionAtLeast && tg.isVersionAtLeast("6.9")) {
      try { tg.CloudStorage.setItem(FONT_KEY, String(value)); } catch (_) { /* kept locally */ }
    }
  }
  function stepFont(direction) {
    const i = FONTS.indexOf(font);
    const next = FONTS[Math.max(0, Math.min(FONTS.length - 1, (i < 0 ? 2 : i) + direction))];
    setFont(next, true);
  }

  // ---- The reader ----
  let doc = null;
  let current = 0;

  function mark(section) {
    if (section.completeness === "partial") return " ◐";
    if (section.completeness === "title") return " ○";
    return "";
  }

  function renderToc() {
    const list = $("toc-list");
    list.textContent = "";
    doc.sections.forEach((section, i) => {
      const item = el("li", null, section.id.includes(".") ? "point" : "part");
      const link = el("a", section.heading + mark(section));
      link.href = "#s-" + section.id;
      link.addEventListener("click", (e) => { e.preventDefault(); go(i); $("toc").hidden = true; });
      item.appendChild(link);
      if (doc.checked.includes(section.id)) item.appendChild(el("span", " ✅"));
      if (doc.today === section.id) item.appendChild(el("span", " 📍今日", "muted"));
      list.appendChild(item);
    });
  }

  function go(index) {
    current = Math.max(0, Math.min(doc.sections.length - 1, index));
    const section = doc.sections[current];
    $("section-heading").textContent = section.heading + mark(section);
    const note = $("section-note");
    note.hidden = section.completeness === "full";
    note.textContent = section.completeness === "partial" ? "◐ 原文有缺失" : "○ 原文只有标题";
    const body = $("section-body");
    body.textContent = "";
    for (const block of section.blocks) {
      body.appendChild(block === null ? el("p", "……（原文此处缺失）", "gap") : el("p", block));
    }
    $("position").textContent = (current + 1) + " / " + doc.sections.length;
    $("prev").disabled = current === 0;
    $("next").disabled = current === doc.sections.length - 1;
    const checked = doc.checked.includes(section.id);
    const checkable = doc.checkable.includes(section.id);
    $("check-button").hidden = checked || !checkable;
    $("check-text").textContent = checked ? "✅ 已学习" : (checkable ? "" : "这一节还没发到本群");
    history.replaceState(null, "", "#s-" + section.id);
    window.scrollTo(0, 0);
  }

  async function checkIn() {
    const section = doc.sections[current];
    $("check-button").disabled = true;
    try {
      const outcome = await api("/api/checkin", { method: "POST", body: JSON.stringify({ section: section.id }) });
      if (outcome.done && !doc.checked.includes(section.id)) doc.checked.push(section.id);
      renderToc();
      go(current);
      $("check-text").textContent = outcome.message;
      if (tg && tg.HapticFeedback && outcome.done) tg.HapticFeedback.notificationOccurred("success");
    } catch (error) {
      $("check-text").textContent = error.message;
    } finally {
      $("check-button").disabled = false;
    }
  }

  function search(query) {
    const results = $("search-results");
    results.textContent = "";
    query = query.trim();
    if (!query) { results.hidden = true; return; }
    let found = 0;
    doc.sections.forEach((section, i) => {
      const texts = [section.heading].concat(section.blocks.filter((b) => b !== null));
      const hit = texts.find((t) => t.includes(query));
      if (!hit || found >= 50) return;
      found += 1;
      const item = el("li");
      const link = el("a", section.heading);
      link.href = "#s-" + section.id;
      link.addEventListener("click", (e) => { e.preventDefault(); results.hidden = true; go(i); });
      item.appendChild(link);
      const at = hit.indexOf(query);
      const snippet = el("div", null, "muted");
      snippet.appendChild(document.createTextNode((at > 20 ? "…" : "") + hit.slice(Math.max(0, at - 20), at)));
      snippet.appendChild(el("mark", query));
      snippet.appendChild(document.createTextNode(hit.slice(at + query.length, at + query.length + 30) + "…"));
      item.appendChild(snippet);
      results.appendChild(item);
    });
    if (!found) results.appendChild(el("li", "没有找到“" + query + "”。", "muted"));
    results.hidden = false;
  }

  async function openReader() {
    doc = await api("/api/reader");
    $("doc-title").textContent = doc.title;
    $("doc-occasion").textContent = doc.occasion;
    renderToc();
    const fromHash = location.hash.startsWith("#s-") ? doc.sections.findIndex((s) => "#s-" + s.id === location.hash) : -1;
    const today = doc.sections.findIndex((s) => s.id === doc.today);
    show("reader");
    go(fromHash >= 0 ? fromHash : Math.max(0, today));
    $("prev").addEventListener("click", () => go(current - 1));
    $("next").addEventListener("click", () => go(current + 1));
    $("toc-button").addEventListener("click", () => { $("toc").hidden = !$("toc").hidden; });
    $("font-up").addEventListener("click", () => stepFont(1));
    $("font-down").addEventListener("click", () => stepFont(-1));
    $("check-button").addEventListener("click", checkIn);
    $("search").addEventListener("submit", (e) => { e.preventDefault(); search($("search-input").value); });
    $("search-input").addEventListener("input", (e) => search(e.target.value));
  }

  // ---- The dashboard ----
  async function loadDashboard(days) {
    const data = await api("/api/dashboard?days=" + days);
    $("days-30").className = days === 30 ? "on" : "";
    $("days-90").className = days === 90 ? "on" : "";
    const done = data.roster.filter((m) => m.today_at).length;
    $("dash-summary").textContent = data.today + "（" + data.zone + "）· 成员 " + data.members +
      " 人 · 今日已学 " + done + " 人 · 本周 " + data.this_week.active + " 人学习 " + data.this_week.check_ins + " 次";
    // The chart is drawn by the server (figures only, no user text): see app::webapp.
    const chart = new DOMParser().parseFromString(data.chart, "image/svg+xml").documentElement;
    $("chart").textContent = "";
    $("chart").appendChild(document.importNode(chart, true));
    const body = $("roster").tBodies[0];
    body.textContent = "";
    for (const m of data.roster) {
      const row = el("tr");
      row.appendChild(el("td", m.name));
      row.appendChild(el("td", m.today_at ? "✅ " + m.today_at : "⬜"));
      row.appendChild(el("td", m.streak + " 天"));
      row.appendChild(el("td", m.week_days + "/" + data.week_days));
      row.appendChild(el("td", m.rate + "%"));
      body.appendChild(row);
    }
    if (!data.roster.length) body.appendChild(el("tr")).appendChild(el("td", "还没有成员。"));
    const parts = $("parts");
    parts.textContent = "";
    for (const p of data.parts) {
      parts.appendChild(el("li", p.part + "：" + Math.round(100 * p.correct / Math.max(1, p.total)) + "%（" + p.correct + "/" + p.total + "）"));
    }
    if (!data.parts.length) parts.appendChild(el("li", "还没有测验记录。", "muted"));
    const missed = $("missed");
    missed.textContent = "";
    for (const q of data.missed) missed.appendChild(el("li", q.question + "（错 " + q.wrong + "/" + q.total + "）"));
    if (!data.missed.length) missed.appendChild(el("li", "还没有答错的题。", "muted"));
    $("settings").textContent = "学习周报：" + (data.weekly_report || "未开启（/report weekly Mon 09:00）") +
      "；每周测验：" + (data.weekly_test || "未开启（/weeklytest Sun 20:00）");
  }

  async function openDashboard() {
    await loadDashboard(30);
    show("dashboard");
    $("days-30").addEventListener("click", () => loadDashboard(30).catch((e) => fail(e.message)));
    $("days-90").addEventListener("click", () => loadDashboard(90).catch((e) => fail(e.message)));
    $("export").addEventListener("click", async () => {
      $("export").disabled = true;
      try {
        const result = await api("/api/export", { method: "POST", body: "{}" });
        $("export-text").textContent = result.message;
      } catch (error) {
        $("export-text").textContent = error.message;
      } finally {
        $("export").disabled = false;
      }
    });
  }

  function start() {
    if (tg) { try { tg.ready(); tg.expand(); } catch (_) { /* an old client */ } }
    if (!initData) { fail("请从 Telegram 里的学习机器人打开本页面（发送 /read 或 /dashboard）。"); return; }
    loadFont(() => {
      const asked = new URLSearchParams(location.search).get("view");
      const open = startParam.startsWith("d-") || asked === "dashboard" ? openDashboard : openReader;
      open().catch((error) => fail(error.message));
    });
  }

  start();
})();
