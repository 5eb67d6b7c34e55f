//! Web and page debris: what a copied web page adds around the author's text.
//!
//! Two kinds matter. Most debris is simply dropped (site names, URLs, `来源：`,
//! `责任编辑：`, share buttons, navigation, `ICP备` footers, photo credits). A *cut
//! notice* (`省略877字`, `（未完…）`, `全文共N字，当前仅显示N字`, `正式会员可完整阅读`) is
//! dropped too, but it says the page withheld text at that place: the importer records
//! a gap there. Every dropped piece is reported so an editor can check it.

/// Why a line (or the end of a line) was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DebrisKind {
    /// The page says text was withheld here; a gap is recorded.
    Cut,
    /// Page furniture: site name, URL, source, editor, share, navigation, footer.
    Page,
    /// A photo credit (`新华社记者 … 摄`).
    Photo,
    /// A line of dots or dashes separating blocks.
    Separator,
}

impl DebrisKind {
    /// How the report names the kind.
    pub fn label(self) -> &'static str {
        match self {
            Self::Cut => "截断提示（此处记为缺失）",
            Self::Page => "网页信息",
            Self::Photo => "图片说明",
            Self::Separator => "分隔线",
        }
    }
}

/// What a line is, as far as debris goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineDebris<'a> {
    /// The whole line is debris.
    Whole(DebrisKind),
    /// The line is author text up to `before`, then a cut notice (`notice`), then
    /// possibly more author text (`after`).
    Inline {
        /// Author text before the notice.
        before: &'a str,
        /// The dropped notice.
        notice: &'a str,
        /// Author text after the notice.
        after: &'a str,
    },
}

/// Lines starting with these are page furniture.
const PAGE_PREFIXES: &[&str] = &[
    "来源：",
    "来源:",
    "来源 :",
    "责任编辑",
    "编辑：",
    "编辑:",
    "作者：",
    "作者:",
    "收藏《",
    "分享到",
    "分享：",
    "扫一扫",
    "【我要纠错】",
    "相关稿件",
    "相关新闻",
    "相关阅读",
    "相关文章",
    "上一篇",
    "下一篇",
    "打印本页",
    "【打印",
    "关闭窗口",
    "【关闭",
    "发布时间",
    "发布日期",
    "浏览次数",
    "阅读次数",
    "点击数",
    "字号：",
    "字号:",
    "【字体",
    "返回顶部",
    "网站地图",
    "版权所有",
    "Copyright",
    "copyright",
    "COPYRIGHT",
    "©",
    "主办单位",
    "当前位置",
    "您的位置",
    "您现在的位置",
    "首页 >",
    "首页>",
    "首页 ＞",
    "热门推荐",
    "推荐阅读",
    "免责声明",
];

/// Lines containing these anywhere are page furniture.
const PAGE_FRAGMENTS: &[&str] = &[
    "ICP备",
    "ICP证",
    "公网安备",
    "http://",
    "https://",
    "www.",
    "【我要纠错】",
    "我要纠错",
    "扫一扫",
    "微信扫",
    "在手机上阅读",
    "责任编辑：",
    "责任编辑:",
];

/// Classifies one normalised, trimmed, non-empty line. A `heading` (a line that starts
/// with a section marker such as `一、` or `（二）`) is only searched for cut notices:
/// `（二）织密防护网` is a heading, not a site name.
pub fn classify(line: &str, heading: bool) -> Option<LineDebris<'_>> {
    if let Some(inline) = cut_notice(line) {
        return Some(inline);
    }
    if heading {
        return None;
    }
    if is_separator(line) {
        return Some(LineDebris::Whole(DebrisKind::Separator));
    }
    if is_photo_credit(line) {
        return Some(LineDebris::Whole(DebrisKind::Photo));
    }
    // Markup the data file gives a meaning (`# heading`, `<!-- comment -->`, `[gap]`):
    // a web page's hashtags and comments, never the author's sentences.
    if line.starts_with(['#', '＃']) || line.starts_with("<!--") || line.starts_with("[gap]") {
        return Some(LineDebris::Whole(DebrisKind::Page));
    }
    if PAGE_PREFIXES.iter().any(|p| line.starts_with(p))
        || PAGE_FRAGMENTS.iter().any(|f| line.contains(f))
        || is_site_name(line)
        || is_navigation(line)
        || is_link(line)
        || is_page_stamp(line)
    {
        return Some(LineDebris::Whole(DebrisKind::Page));
    }
    None
}

/// Whether the line is only dots, ellipses, dashes or stars.
pub fn is_separator(line: &str) -> bool {
    !line.is_empty()
        && line.chars().all(|c| {
            matches!(
                c,
                '…' | '.' | '。' | '-' | '—' | '=' | '*' | '·' | '_' | ' '
            )
        })
}

/// Finds a cut notice in the line: the whole line, or its end (or middle) after author
/// text.
fn cut_notice(line: &str) -> Option<LineDebris<'_>> {
    let at = cut_keyword(line)?;
    // The notice starts at the bracket that opens it (if any, within a short distance)
    // and at the dots before that bracket.
    let head = &line[..at];
    let mut start = at;
    if let Some((open, _)) = head
        .char_indices()
        .rev()
        .take(40)
        .find(|(_, c)| matches!(c, '(' | '（' | '【' | '['))
        && !head[open..].contains([')', '）', '】', ']'])
    {
        start = open;
    }
    start = line[..start].trim_end_matches(['…', '.', ' ']).len();
    // It ends at the matching closing bracket (and the dots after it), or at the end.
    let tail = &line[at..];
    let end = match tail.find([')', '）', '】', ']']) {
        Some(close) => {
            let close = at + close;
            let close = close + line[close..].chars().next().map_or(0, char::len_utf8);
            close + (line[close..].len() - line[close..].trim_start_matches(['…', '.', ' ']).len())
        }
        None => line.len(),
    };
    let before = line[..start].trim();
    let after = line[end..].trim();
    if before.is_empty() && after.is_empty() {
        return Some(LineDebris::Whole(DebrisKind::Cut));
    }
    Some(LineDebris::Inline {
        before,
        notice: line[start..end].trim(),
        after,
    })
}

/// The byte index of a cut keyword, if the line has one.
fn cut_keyword(line: &str) -> Option<usize> {
    const PLAIN: &[&str] = &[
        "当前仅显示",
        "完整阅读",
        "查看全文",
        "阅读全文",
        "余下全文",
        "请阅读下面提示",
        "未完待续",
    ];
    let mut found: Option<usize> = PLAIN.iter().filter_map(|k| line.find(k)).min();
    let mut consider = |at: usize| found = Some(found.map_or(at, |f| f.min(at)));
    // 省略877字, 全文共4678字, 剩余1200字: a keyword followed by a number of characters.
    for keyword in ["省略", "全文共", "剩余", "还剩"] {
        for (at, _) in line.match_indices(keyword) {
            let rest = &line[at + keyword.len()..];
            let digits = rest.chars().take_while(char::is_ascii_digit).count();
            if digits > 0 && rest[digits..].starts_with('字') {
                consider(at);
            }
        }
    }
    // (未完 …) but not 未完成: only right after a bracket, or before punctuation.
    for (at, _) in line.match_indices("未完") {
        let before = line[..at].chars().next_back();
        let after = line[at + "未完".len()..].chars().next();
        if matches!(before, Some('(' | '（' | '【' | '['))
            || matches!(
                after,
                None | Some(',' | '，' | ')' | '）' | '】' | '。' | '…')
            )
        {
            consider(at);
        }
    }
    found
}

/// `新华社记者 张三 摄`, `（记者 李四 摄）`.
fn is_photo_credit(line: &str) -> bool {
    let trimmed = line.trim_end_matches([')', '）']);
    line.chars().count() <= 60
        && trimmed.ends_with('摄')
        && (line.contains("记者")
            || line.contains("摄影")
            || line.contains("新华社")
            || line.contains("供图"))
}

/// A short line that is a site's name: `新华网`, `中国政府网`, `人民网-人民日报`.
fn is_site_name(line: &str) -> bool {
    if line.contains(['。', '，', ',', '：', ':', '、']) {
        return false;
    }
    let chars = line.chars().count();
    (chars <= 12
        && ["网", "网站", "频道", "客户端", "在线"]
            .iter()
            .any(|suffix| line.ends_with(suffix)))
        || (chars <= 20
            && ["网-", "网—", "网_", "网 -"]
                .iter()
                .any(|s| line.contains(s)))
}

/// An item of a list of links (`·习近平主持召开会议`).
fn is_link(line: &str) -> bool {
    line.starts_with(['·', '•', '▪', '►', '>', '＞'])
        && line.chars().count() <= 40
        && !line.ends_with(['。', '！', '？'])
}

/// A page's date stamp or its source line: `2024-12-20 10:30:00 来源：新华社`.
fn is_page_stamp(line: &str) -> bool {
    let short = line.chars().count() <= 60;
    let stamp = line.len() >= 10
        && line.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && matches!(line.as_bytes()[4], b'-' | b'/' | b'.')
        && line.contains(':');
    short && (stamp || line.contains("来源：") || line.contains("来源:"))
}

/// A navigation menu (four or more short items separated by spaces, `|`, `>` or `·`)
/// or a breadcrumb (`人民网 >> 时政`), with no sentence punctuation.
fn is_navigation(line: &str) -> bool {
    if line.contains(['。', '，', ',', '；', '！', '？', '：', '、']) {
        return false;
    }
    let items: Vec<&str> = line
        .split([' ', '|', '｜', '>', '＞', '»', '·', '/'])
        .filter(|item| !item.is_empty())
        .collect();
    let short = |most: usize| items.iter().all(|item| item.chars().count() <= most);
    let breadcrumb = line.contains(['>', '＞', '»']) && items.len() >= 2 && short(10);
    breadcrumb || (items.len() >= 4 && short(6))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(line: &str) -> Option<DebrisKind> {
        match classify(line, false) {
            Some(LineDebris::Whole(kind)) => Some(kind),
            _ => None,
        }
    }

    #[test]
    fn the_seeds_notices() {
        assert_eq!(
            whole("……(新文秘网http://www.wm114.cn省略877字,正式会员可完整阅读)……"),
            Some(DebrisKind::Cut)
        );
        assert_eq!(
            whole("收藏《在全市乡镇(街道)党(工)委书记培训重点班上的发言》)"),
            Some(DebrisKind::Page)
        );
        assert_eq!(whole("……"), Some(DebrisKind::Separator));
        assert_eq!(
            classify(
                "可以实行“导师帮带”制度,让 ……(未完,全文共4678字,当前仅显示2464字,请阅读下面提示信息。",
                false
            ),
            Some(LineDebris::Inline {
                before: "可以实行“导师帮带”制度,让",
                notice: "……(未完,全文共4678字,当前仅显示2464字,请阅读下面提示信息。",
                after: "",
            })
        );
    }

    #[test]
    fn news_page_furniture() {
        for line in [
            "来源：新华网",
            "责任编辑：王五",
            "【我要纠错】 责任编辑：赵六",
            "扫一扫在手机打开当前页",
            "相关稿件",
            "京ICP备05070218号",
            "新华社记者 李学仁 摄",
            "（新华社记者 鞠鹏 摄）",
            "首页 | 时政 | 国际 | 财经 | 评论",
            "人民网 >> 时政",
            "新华网",
            "版权所有 中国政府网",
            "2024-12-20 10:30:00 来源：新华社",
            "·习近平主持召开会议",
        ] {
            assert!(whole(line).is_some(), "{line}");
        }
    }

    #[test]
    fn author_text_is_kept() {
        for line in [
            "一、铸牢政治之魂,把准前行方向",
            "要完成未完成的任务。",
            "三、扛起发展之责 激活基层动能",
            "同志们：",
            "建强治理网格，把党支部建在网格上。",
            "（2024年3月5日）",
            "坚持网上网下一体化",
        ] {
            assert_eq!(classify(line, false), None, "{line}");
        }
    }

    #[test]
    fn a_notice_in_the_middle_keeps_both_sides() {
        assert_eq!(
            classify("前面的话。（省略300字）后面的话。", false),
            Some(LineDebris::Inline {
                before: "前面的话。",
                notice: "（省略300字）",
                after: "后面的话。",
            })
        );
    }
}
