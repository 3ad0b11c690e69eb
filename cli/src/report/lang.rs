//! The language and time zone of the tables a person reads (`--lang zh|en`, `--utc`): set once
//! at start, read by every table. JSON keeps the API's own names and UTC, whatever is set here.

use std::sync::OnceLock;

use time::{OffsetDateTime, UtcOffset};

/// The language of table labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Lang {
    #[default]
    En,
    Zh,
}

static LANG: OnceLock<Lang> = OnceLock::new();
static OFFSET: OnceLock<UtcOffset> = OnceLock::new();

/// Sets the language and the zone times are shown in: UTC with `utc`, else the local zone.
///
/// Call it before any other thread starts: reading the local offset is only sound while the
/// process has one thread, so it is read once here and kept (a zone that changes its offset
/// while a command runs is shown at the offset it had when the command started).
pub fn init(lang: Lang, utc: bool) {
    let _ = LANG.set(lang);
    let offset = if utc {
        UtcOffset::UTC
    } else {
        UtcOffset::current_local_offset().unwrap_or(UtcOffset::UTC)
    };
    let _ = OFFSET.set(offset);
}

pub fn lang() -> Lang {
    LANG.get().copied().unwrap_or_default()
}

/// `t` in the zone tables show times in.
pub fn local(t: OffsetDateTime) -> OffsetDateTime {
    t.to_offset(OFFSET.get().copied().unwrap_or(UtcOffset::UTC))
}

/// A table label in the chosen language; a label without a translation is shown as it is.
pub fn label(en: &str) -> &str {
    if lang() == Lang::En {
        return en;
    }
    match en {
        "field" => "项目",
        "value" => "值",
        "verdict" => "结论",
        "quarantine" => "隔离",
        "colour" => "颜色",
        "issued by" => "签发方",
        "refreshed" => "更新时间",
        "valid until" => "有效期至",
        "source" => "来源",
        "name" => "姓名",
        "subject_ref" => "主体标识",
        "rules of" => "适用规则",
        "agreement" => "互认协议",
        "registry" => "信任登记",
        "reason" => "原因",
        "seat" => "座位",
        "boarding" => "登车",
        "issuer" => "签发地",
        "why" => "原因",
        "worker" => "工号",
        "receipt" => "回执",
        "verifying" => "核验地",
        "issuing" => "签发地",
        "total" => "合计",
        "origin" => "输出地",
        "destination" => "输入地",
        "confirmed" => "已确认",
        "not_confirmed" => "未确认",
        "region" => "地区",
        "health" => "状态",
        "detail" => "详情",
        other => other,
    }
}
