//! The reference regions' own 2020 status words and the canonical colour each one means.
//!
//! This table is the single source both for issuing codes in the reference services and for the
//! dev registry's signed concept maps. At run time the gateway translates only through the signed
//! concept map, never through this table.

use crate::model::Colour;

/// One region's vocabulary: native label → canonical colour.
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary {
    pub region: &'static str,
    /// Name of the region's code system, e.g. "天府健康通".
    pub system: &'static str,
    pub labels: &'static [(&'static str, Colour)],
}

impl Vocabulary {
    /// The native label a region uses for a canonical colour, if it has one.
    pub fn label_for(&self, colour: Colour) -> Option<&'static str> {
        self.labels
            .iter()
            .find(|(_, c)| *c == colour)
            .map(|(l, _)| *l)
    }

    pub fn colour_of(&self, label: &str) -> Option<Colour> {
        self.labels
            .iter()
            .find(|(l, _)| *l == label)
            .map(|(_, c)| *c)
    }
}

const TRAFFIC_LIGHT: &[(&str, Colour)] = &[
    ("绿码", Colour::Green),
    ("黄码", Colour::Yellow),
    ("红码", Colour::Red),
];

pub const VOCABULARIES: [Vocabulary; 7] = [
    // Zhejiang 浙江健康码: yellow means 7 days at home, red 14 days centralised (the agreement says).
    Vocabulary {
        region: "330000",
        system: "浙江健康码",
        labels: TRAFFIC_LIGHT,
    },
    // Guangdong 粤康码: red or green only.
    Vocabulary {
        region: "440000",
        system: "粤康码",
        labels: &[("绿码", Colour::Green), ("红码", Colour::Red)],
    },
    // Sichuan 天府健康通: yellow means "watch".
    Vocabulary {
        region: "510000",
        system: "天府健康通",
        labels: TRAFFIC_LIGHT,
    },
    // Hunan: the national e-health-card colours.
    Vocabulary {
        region: "430000",
        system: "湖南居民健康卡",
        labels: TRAFFIC_LIGHT,
    },
    // Henan: risk levels instead of colours.
    Vocabulary {
        region: "410000",
        system: "河南健康码",
        labels: &[
            ("低风险", Colour::Green),
            ("中风险", Colour::Yellow),
            ("高风险", Colour::Red),
        ],
    },
    // Hubei: grey while pending; green lapses after 3 days without renewal (a concept-map rule).
    Vocabulary {
        region: "420000",
        system: "湖北健康码",
        labels: &[
            ("灰码", Colour::Pending),
            ("绿码", Colour::Green),
            ("黄码", Colour::Yellow),
            ("红码", Colour::Red),
        ],
    },
    // The national platform 防疫健康信息码.
    Vocabulary {
        region: "000000",
        system: "防疫健康信息码",
        labels: &[
            ("未见异常", Colour::Green),
            ("居家观察", Colour::Yellow),
            ("集中观察", Colour::Red),
        ],
    },
];

pub fn vocabulary(region: &str) -> Option<&'static Vocabulary> {
    VOCABULARIES.iter().find(|v| v.region == region)
}
