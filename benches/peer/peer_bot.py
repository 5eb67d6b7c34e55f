"""The peer: studybot's lookups written the way a Python developer would, with aiogram 3.

It answers /section <ref> and /search <words> over the same data file
(data/texts/xzsj.md) with the same HTML replies and navigation buttons, plus /start,
/help and /outline. Stock aiogram: asyncio, the default aiohttp session, long polling.
The benchmarks (benches/README.md) run it against their fake Bot API.

Environment: TELOXIDE_TOKEN (the bot token), TELOXIDE_API_URL (the Bot API base URL,
e.g. http://127.0.0.1:8081), STUDYBOT_DATA (the data directory; default ./data).
"""

from __future__ import annotations

import asyncio
import html
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import PRODUCTION, TelegramAPIServer
from aiogram.enums import ParseMode
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

GAP_NOTICE = "（原文此处不完整）"
PARTIAL_NOTICE = "注：本节原文不完整，以上为现存部分，缺失内容不作补写。"
TITLE_ONLY_NOTICE = "（本节原文缺失，仅存标题，正文暂不可用。）"
MAX_RESULTS = 10
TITLE_WEIGHT = 10
SNIPPET_BEFORE = 12
SNIPPET_AFTER = 24
MAX_QUERY_CHARS = 50
MAX_REFERENCE_CHARS = 40

NUMERALS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


# ----- the text ------------------------------------------------------------------------


@dataclass
class Section:
    part: int
    point: int
    title: str
    phrase: str
    mark: str  # "full", "partial" or "title"
    blocks: list[str | None] = field(default_factory=list)  # None marks a gap

    @property
    def ref(self) -> str:
        return str(self.part) if self.point == 0 else f"{self.part}.{self.point}"

    @property
    def is_part(self) -> bool:
        return self.point == 0 and self.part > 0

    def paragraphs(self) -> list[str]:
        return [b for b in self.blocks if b is not None]


@dataclass
class Document:
    id: str
    title: str
    note: str
    sections: list[Section]

    def __post_init__(self) -> None:
        self.by_ref = {s.ref: i for i, s in enumerate(self.sections)}

    def section(self, ref: str) -> Section | None:
        index = self.by_ref.get(ref)
        return None if index is None else self.sections[index]

    def neighbours(self, ref: str) -> tuple[Section | None, Section | None]:
        i = self.by_ref[ref]
        before = self.sections[i - 1] if i > 0 else None
        after = self.sections[i + 1] if i + 1 < len(self.sections) else None
        return before, after

    def points(self, part: int) -> list[Section]:
        return [s for s in self.sections if s.part == part and s.point > 0]


HEADING = re.compile(r"^(#{1,2}) (\d+)(?:\.(\d+))? (.+?) \[(full|partial|title)\]$")


def load_document(path: Path) -> Document:
    """Parses the speech file: front matter, headings with marks, paragraphs, [gap]."""
    meta: dict[str, str] = {}
    sections: list[Section] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    in_front = False
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph and sections:
            sections[-1].blocks.append("".join(paragraph))
        paragraph.clear()

    for line in lines:
        line = line.strip()
        if line.startswith("<!--"):
            continue
        if line == "---":
            in_front = not in_front
            continue
        if in_front:
            key, _, value = line.partition(":")
            meta[key.strip()] = value.strip()
            continue
        match = HEADING.match(line)
        if match:
            flush()
            _, part, point, name, mark = match.groups()
            title, _, phrase = (p.strip() for p in name.partition("|"))
            sections.append(Section(int(part), int(point or 0), title, phrase, mark))
        elif line == "[gap]":
            flush()
            sections[-1].blocks.append(None)
        elif not line:
            flush()
        else:
            paragraph.append(line)
    flush()
    return Document(meta.get("id", "doc"), meta.get("title", ""), meta.get("note", ""), sections)


def chinese_numeral(n: int) -> str:
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def number(text: str) -> int | None:
    if text.isascii() and text.isdigit() and len(text) <= 2:
        return int(text)
    if len(text) == 1 and text in NUMERALS:
        return NUMERALS[text]
    if text.startswith("十") and len(text) <= 2:
        return 10 + (NUMERALS.get(text[1:], 0) if len(text) == 2 else 0)
    match = re.fullmatch(r"([二三四五六七八九])十([一二三四五六七八九]?)", text)
    if match:
        return NUMERALS[match[1]] * 10 + (NUMERALS[match[2]] if match[2] else 0)
    return None


SEPARATORS = str.maketrans(
    {**{chr(0xFF10 + d): str(d) for d in range(10)}, **{c: "." for c in "．。、-－—–·・_,，/／"}}
)
NUMBERED = re.compile(r"第?([0-9零一二两三四五六七八九十]+)(?:部分|方面)?(?:\.?第?([0-9零一二两三四五六七八九十]+)(?:点|条)?)?")


def parse_reference(text: str) -> tuple[int, int] | str:
    """2, 2.1, 2-1, ２.１, 二, 二.一, 第二部分第一点, 开场 → (part, point); else a keyword."""
    compact = "".join(text.translate(SEPARATORS).split()).rstrip(".点条")
    if compact in ("开场", "开场白", "开头", "开篇", "引言"):
        return (0, 0)
    match = NUMBERED.fullmatch(compact)
    if match:
        part = number(match[1])
        point = number(match[2]) if match[2] else 0
        if part is not None and point is not None:
            return (part, point)
    return compact


# ----- replies (HTML) --------------------------------------------------------------------


def e(text: str) -> str:
    return html.escape(text, quote=False)


def mark(section: Section) -> str:
    return {"full": "", "partial": "（不完整）", "title": "（仅存标题）"}[section.mark]


def location(doc: Document, section: Section) -> str:
    part = doc.section(str(section.part)) if section.part > 0 else None
    if part is None:
        return doc.title
    return f"第{chinese_numeral(part.part)}部分 {part.title} · {part.phrase}"


def short_label(section: Section) -> str:
    return section.title if section.ref == "0" else section.ref


def navigation(doc: Document, section: Section) -> InlineKeyboardMarkup:
    before, after = doc.neighbours(section.ref)
    row = []
    if before:
        row.append(InlineKeyboardButton(text=f"◀ {short_label(before)}", callback_data=f"s:{doc.id}:{before.ref}"))
    row.append(InlineKeyboardButton(text="提纲", callback_data=f"o:{doc.id}"))
    if after:
        row.append(InlineKeyboardButton(text=f"{short_label(after)} ▶", callback_data=f"s:{doc.id}:{after.ref}"))
    return InlineKeyboardMarkup(inline_keyboard=[row])


def section_reply(doc: Document, section: Section) -> tuple[str, InlineKeyboardMarkup]:
    if section.ref == "0":
        heading = section.title
    elif section.is_part:
        heading = f"{chinese_numeral(section.part)}、{section.title}，{section.phrase}"
    else:
        heading = f"{section.ref} {section.title}"
    out = [f"<b>{e(heading)}</b>\n{e(location(doc, section))}\n\n"]
    body = []
    if section.mark == "title":
        body.append(f"<i>{TITLE_ONLY_NOTICE}</i>")
    for block in section.blocks:
        body.append(f"<i>{GAP_NOTICE}</i>" if block is None else e(block))
    out.append("\n\n".join(body))
    if section.is_part:
        out.append("\n\n<b>本部分要点：</b>\n")
        out.extend(f"{p.ref} {e(p.title)}{mark(p)}\n" for p in doc.points(section.part))
    if section.mark == "partial":
        out.append(f"\n\n<i>{PARTIAL_NOTICE}</i>")
    return "".join(out).rstrip("\n"), navigation(doc, section)


def outline_reply(doc: Document) -> tuple[str, InlineKeyboardMarkup]:
    out = [f"<b>《{e(doc.title)}》提纲</b>\n"]
    for section in doc.sections:
        if section.ref == "0":
            out.append(f"0 {e(section.title)}{mark(section)}\n")
        elif section.is_part:
            out.append(f"\n<b>{chinese_numeral(section.part)}、{e(section.title)}，{e(section.phrase)}</b>\n")
        else:
            out.append(f"  {section.ref} {e(section.title)}{mark(section)}\n")
    out.append("\n阅读某一节：/section 2.1")
    row = [
        InlineKeyboardButton(text=s.title if s.ref == "0" else s.ref, callback_data=f"s:{doc.id}:{s.ref}")
        for s in doc.sections
        if s.point == 0
    ]
    return "".join(out), InlineKeyboardMarkup(inline_keyboard=[row])


def snippet(original: str, lowered: str, term: str) -> tuple[str, str, str]:
    start = lowered.find(term)
    if start < 0 or len(original) != len(lowered):
        return "", "", ""
    end = start + len(term)
    lo, hi = max(0, start - SNIPPET_BEFORE), min(len(original), end + SNIPPET_AFTER)
    before = ("…" if lo > 0 else "") + original[lo:start]
    after = original[end:hi] + ("…" if hi < len(original) else "")
    return before, original[start:end], after


def search_reply(doc: Document, query: str) -> str:
    terms = query.lower().split()
    hits = []
    for section in doc.sections:
        title = f"{section.title} {section.phrase}".lower()
        paragraphs = section.paragraphs()
        lowered = [p.lower() for p in paragraphs]
        score = 0
        for term in terms:
            found = title.count(term) * TITLE_WEIGHT + sum(p.count(term) for p in lowered)
            if not found:
                break
            score += found
        else:
            first = next((i for i, p in enumerate(lowered) if terms[0] in p), None)
            parts = snippet(paragraphs[first], lowered[first], terms[0]) if first is not None else ("", "", "")
            hits.append((score, section, parts))
    shown_query = " ".join(terms)
    if not hits:
        return f"没有找到“{e(shown_query)}”。换个词试试，例如：/search 群众\n（搜索只在现存原文中进行。）"
    hits.sort(key=lambda hit: -hit[0])  # stable: reading order among equal scores
    total, hits = len(hits), hits[:MAX_RESULTS]
    out = [f"<b>搜索“{e(shown_query)}”：共 {total} 节含有</b>"]
    if len(hits) < total:
        out.append(f"<b>，显示前 {len(hits)} 节</b>")
    out.append("\n")
    for n, (_, section, (before, hit, after)) in enumerate(hits, 1):
        out.append(f"\n{n}. {section.ref} {e(section.title)}")
        if hit:
            out.append(f"\n{e(before)}<b>{e(hit)}</b>{e(after)}\n")
        else:
            out.append("（标题）\n")
    out.append(f"\n阅读全文：/section 编号，例如 /section {hits[0][1].ref}")
    return "".join(out)


# ----- the bot -----------------------------------------------------------------------------

DOC = load_document(Path(os.environ.get("STUDYBOT_DATA", "data")) / "texts" / "xzsj.md")
router = Router()


@router.message(CommandStart())
async def on_start(message: Message) -> None:
    await message.answer(
        f"<b>你好！我是学习助手。</b>\n我陪学习小组一起学习《{e(DOC.title)}》。\n\n"
        "先试试：\n/outline 查看提纲\n/section 2.1 阅读某一节\n/search 网格 在原文中搜索"
    )


@router.message(Command("help"))
async def on_help(message: Message) -> None:
    await message.answer(
        "<b>全部命令</b>\n/start — 开始使用\n/help — 全部命令和示例\n/outline — 讲话提纲\n"
        "/section 2.1 — 查看某一节原文\n/search 网格 — 在原文中搜索关键词"
    )


@router.message(Command("outline"))
async def on_outline(message: Message) -> None:
    text, keyboard = outline_reply(DOC)
    await message.answer(text, reply_markup=keyboard)


@router.message(Command("section"))
async def on_section(message: Message, command: CommandObject) -> None:
    argument = (command.args or "").strip()
    if not argument:
        await message.answer("请告诉我要看哪一节，例如：/section 2.1")
        return
    if len(argument) > MAX_REFERENCE_CHARS:
        await message.answer("这不像是一个章节编号（太长了）。请写编号，例如：/section 2.1")
        return
    reference = parse_reference(argument)
    if isinstance(reference, tuple):
        part, point = reference
        ref = str(part) if point == 0 else f"{part}.{point}"
        section = DOC.section(ref)
        if section is None:
            await message.answer(f"没有第 {ref} 节。发送 /outline 查看提纲。")
            return
    else:
        matches = [s for s in DOC.sections if reference and (reference in s.title or reference in s.phrase)]
        if len(matches) != 1:
            listing = "".join(f"/section {s.ref} — {e(s.title)}\n" for s in matches)
            await message.answer(listing or f"没有标题含“{e(reference)}”的章节。请写编号，例如：/section 2.1")
            return
        section = matches[0]
    text, keyboard = section_reply(DOC, section)
    await message.answer(text, reply_markup=keyboard)


@router.message(Command("search"))
async def on_search(message: Message, command: CommandObject) -> None:
    query = (command.args or "").strip()
    if not query:
        await message.answer("请告诉我要搜索的词，例如：/search 网格")
    elif len(query) > MAX_QUERY_CHARS:
        await message.answer(f"搜索词太长了（最多 {MAX_QUERY_CHARS} 个字）。")
    else:
        await message.answer(search_reply(DOC, query))


@router.callback_query(F.data)
async def on_button(query: CallbackQuery) -> None:
    kind, _, rest = (query.data or "").partition(":")
    await query.answer()
    if not isinstance(query.message, Message):
        return
    if kind == "o":
        text, keyboard = outline_reply(DOC)
    else:
        section = DOC.section(rest.partition(":")[2])
        if section is None:
            return
        text, keyboard = section_reply(DOC, section)
    await query.message.answer(text, reply_markup=keyboard)


async def main() -> None:
    api_url = os.environ.get("TELOXIDE_API_URL")
    server = TelegramAPIServer.from_base(api_url) if api_url else PRODUCTION
    bot = Bot(
        os.environ["TELOXIDE_TOKEN"],
        session=AiohttpSession(api=server),
        default=DefaultBotProperties(parse_mode=ParseMode.HTML),
    )
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await bot.delete_webhook()
    await dispatcher.start_polling(bot, polling_timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
