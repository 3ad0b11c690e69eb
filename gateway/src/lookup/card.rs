//! The resident ID and name read from an ID card, checked before anyone is asked: 18 characters,
//! the GB 11643 check digit (ISO 7064 MOD 11-2), a birth date that exists and has passed, and a
//! household region whose first two digits name a province.

use huren_adapters::{RegionCode, ResidentId};
use time::{Date, Month};

/// Longest name taken from a card, in characters (long minority names fit with room to spare).
const MAX_NAME_CHARS: usize = 64;

/// The first two digits of every province, autonomous region, municipality and SAR in GB/T 2260.
const PROVINCES: [u8; 34] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// A card whose number and name passed every check.
#[derive(Debug, Clone)]
pub struct Card {
    pub id: ResidentId,
    /// The household region the number's first six digits name, e.g. 510104.
    pub household: RegionCode,
    pub name: String,
}

/// Why a card's number or name cannot be looked up; each says what the person at the checkpoint
/// can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CardError {
    #[error(
        "the number has {0} characters; an ID card's number has 18 (17 digits, then a digit or \
         X): read it from the card again"
    )]
    Length(usize),
    #[error(
        "only the last character of the number may be other than a digit (0-9, or X as the last): \
         read it from the card again"
    )]
    NotDigits,
    #[error(
        "the last character (the check digit) does not match the first 17 digits: a digit was \
         misread or mistyped; read the number from the card again"
    )]
    CheckDigit,
    #[error(
        "characters 7-14 should be the birth date, but {0} is not a date: read the number from \
         the card again"
    )]
    BirthDate(String),
    #[error(
        "the birth date in the number ({0}) is in the future or before 1900: read the number from \
         the card again"
    )]
    BirthDateOutOfRange(String),
    #[error("the first two digits ({0}) name no province: read the number from the card again")]
    Province(String),
    #[error("the name is empty: type the name as printed on the card")]
    NoName,
    #[error("the name has more than {MAX_NAME_CHARS} characters: type it as printed on the card")]
    LongName,
}

impl CardError {
    /// The request field the error is about.
    pub fn field(&self) -> &'static str {
        match self {
            CardError::NoName | CardError::LongName => "name",
            _ => "resident_id_number",
        }
    }
}

impl Card {
    /// Checks `number` and `name` as read from a card, on `today` (for the birth date).
    pub fn read(number: &str, name: &str, today: Date) -> Result<Card, CardError> {
        let number = number.trim();
        let chars = number.chars().count();
        if chars != 18 {
            return Err(CardError::Length(chars));
        }
        let b = number.as_bytes();
        let last_ok = b[17].is_ascii_digit() || b[17].eq_ignore_ascii_case(&b'x');
        if !b[..17].iter().all(u8::is_ascii_digit) || !last_ok {
            return Err(CardError::NotDigits);
        }
        let id = ResidentId::parse(number).map_err(|_| CardError::CheckDigit)?;
        check_birth_date(&number[6..14], today)?;
        let province = &number[..2];
        if !province.parse::<u8>().is_ok_and(|p| PROVINCES.contains(&p)) {
            return Err(CardError::Province(province.to_string()));
        }
        let household = RegionCode::parse(&number[..6]).map_err(|_| CardError::NotDigits)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(CardError::NoName);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(CardError::LongName);
        }
        Ok(Card {
            id,
            household,
            name: name.to_string(),
        })
    }
}

/// `yyyymmdd` is a real date, not after `today` and not before 1900.
fn check_birth_date(yyyymmdd: &str, today: Date) -> Result<(), CardError> {
    let shown = || format!("{}-{}-{}", &yyyymmdd[..4], &yyyymmdd[4..6], &yyyymmdd[6..8]);
    let part = |range: std::ops::Range<usize>| yyyymmdd[range].parse::<u16>().ok();
    let date = match (part(0..4), part(4..6), part(6..8)) {
        (Some(y), Some(m), Some(d)) => Month::try_from(m as u8)
            .ok()
            .and_then(|m| Date::from_calendar_date(i32::from(y), m, d as u8).ok()),
        _ => None,
    }
    .ok_or_else(|| CardError::BirthDate(shown()))?;
    if date > today || date.year() < 1900 {
        return Err(CardError::BirthDateOutOfRange(shown()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> Date {
        Date::from_calendar_date(2020, Month::March, 1).expect("a date")
    }

    fn number(first17: &str) -> String {
        ResidentId::from_first17(first17)
            .expect("17 digits")
            .expose()
            .to_string()
    }

    #[test]
    fn a_good_card_names_its_household_region() {
        let card = Card::read(&number("51010419400101001"), " 李大爷 ", today()).expect("valid");
        assert_eq!(card.household.as_str(), "510104");
        assert_eq!(card.name, "李大爷");
        // A lower-case x as the check character is the same number.
        let x = number("11010519491231002");
        assert!(x.ends_with('X'));
        assert!(Card::read(&x.to_lowercase(), "王", today()).is_ok());
    }

    #[test]
    fn each_misread_says_what_to_do() {
        let good = number("51010419400101001");
        let mut wrong_check = good[..17].to_string();
        let last = if good.ends_with('0') { '1' } else { '0' };
        wrong_check.push(last);
        let cases = [
            (good[..17].to_string(), CardError::Length(17)),
            (format!("5101041940010100A{last}"), CardError::NotDigits),
            (wrong_check, CardError::CheckDigit),
            (
                number("51010419400231001"),
                CardError::BirthDate("1940-02-31".into()),
            ),
            (
                number("51010420990101001"),
                CardError::BirthDateOutOfRange("2099-01-01".into()),
            ),
            (
                number("51010418990101001"),
                CardError::BirthDateOutOfRange("1899-01-01".into()),
            ),
            (
                number("99010419400101001"),
                CardError::Province("99".into()),
            ),
        ];
        for (n, expected) in cases {
            let refused = Card::read(&n, "李大爷", today()).expect_err(&n);
            assert_eq!(refused, expected, "{n}");
            assert!(refused.to_string().contains("again"), "{refused}");
            assert_eq!(refused.field(), "resident_id_number");
        }
        assert_eq!(
            Card::read(&good, "  ", today()).unwrap_err(),
            CardError::NoName
        );
        assert_eq!(
            Card::read(&good, &"李".repeat(65), today()).unwrap_err(),
            CardError::LongName
        );
    }
}
