//! Made-up residents for the demo: valid resident ID numbers (MOD 11-2 check digit) with a home
//! county per region, common Chinese names, and a seeded colour mix, so every run is alike.

use huren_adapters::{Colour, RegionCode, ResidentId};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const SURNAMES: [&str; 20] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗",
];
const GIVEN: [&str; 20] = [
    "伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟",
    "涛", "明", "超", "秀兰", "霞",
];

/// A county of each region, for the first six digits of its residents' ID numbers.
fn county(region: RegionCode) -> &'static str {
    match region.as_str() {
        "330000" => "330106", // Hangzhou Xihu
        "440000" => "440106", // Guangzhou Tianhe
        "510000" => "510104", // Chengdu Jinjiang
        "430000" => "430102", // Changsha Furong
        "410000" => "411302", // Nanyang Wancheng
        "420000" => "420106", // Wuhan Wuchang
        _ => "110105",        // Beijing Chaoyang, for the national platform
    }
}

/// One made-up resident.
#[derive(Debug, Clone)]
pub struct Resident {
    pub id: ResidentId,
    pub name: String,
}

/// A seeded source of residents.
pub struct People {
    rng: StdRng,
    serial: u32,
}

impl People {
    pub fn new(seed: u64) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed),
            serial: 0,
        }
    }

    /// A new resident of `region` with a valid, unique ID number.
    pub fn resident(&mut self, region: RegionCode) -> Resident {
        self.serial += 1;
        let year = self.rng.gen_range(1960..2002);
        let month = self.rng.gen_range(1..=12);
        let day = self.rng.gen_range(1..=28);
        // The sequence digits make IDs unique within a run (at most 999 a county and birthday).
        let body = format!(
            "{}{year:04}{month:02}{day:02}{:03}",
            county(region),
            self.serial % 1000
        );
        let name = format!(
            "{}{}",
            SURNAMES[self.rng.gen_range(0..SURNAMES.len())],
            GIVEN[self.rng.gen_range(0..GIVEN.len())]
        );
        Resident {
            id: with_check_digit(&body),
            name,
        }
    }

    /// A colour drawn from a mix of (colour, weight out of 1,000).
    pub fn colour(&mut self, mix: &[(Colour, u32)]) -> Colour {
        let total: u32 = mix.iter().map(|(_, w)| w).sum();
        let mut pick = self.rng.gen_range(0..total.max(1));
        for (colour, weight) in mix {
            if pick < *weight {
                return *colour;
            }
            pick -= weight;
        }
        Colour::Green
    }

    pub fn rng(&mut self) -> &mut StdRng {
        &mut self.rng
    }
}

/// `body` (17 digits) with its ISO 7064 MOD 11-2 check digit.
fn with_check_digit(body: &str) -> ResidentId {
    match ResidentId::from_first17(body) {
        Ok(id) => id,
        // Unreachable for 17 digits; a fixed valid ID keeps the demo going if it ever is not.
        Err(_) => huren_adapters::testing::resident_id(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_valid_unique_and_local() {
        let mut people = People::new(7);
        let a = people.resident(RegionCode::SICHUAN);
        let b = people.resident(RegionCode::SICHUAN);
        assert!(a.id.expose().starts_with("510104"));
        assert_ne!(a.id, b.id);
        assert!(ResidentId::parse(a.id.expose()).is_ok());
    }
}
