//! Duration flags as people write them: `90s`, `48h`, `14d`, `2h 30m` (humantime), or a bare
//! number in the flag's own unit, so `--valid-days 7` keeps working beside `--valid-days 1w`.

use std::ops::RangeInclusive;

/// The unit a duration flag counts in, which a bare number is read in.
#[derive(Debug, Clone, Copy)]
pub enum Unit {
    Millis,
    Hours,
    Days,
}

impl Unit {
    fn millis(self) -> u128 {
        match self {
            Unit::Millis => 1,
            Unit::Hours => 3_600_000,
            Unit::Days => 86_400_000,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Unit::Millis => "milliseconds",
            Unit::Hours => "hours",
            Unit::Days => "days",
        }
    }
}

/// A clap value parser: the flag's value as a whole number of `unit`s within `range`.
pub fn parser<T>(
    unit: Unit,
    range: RangeInclusive<u64>,
) -> impl Fn(&str) -> Result<T, String> + Clone + Send + Sync + 'static
where
    T: TryFrom<u64>,
{
    move |s: &str| {
        let count = parse(s, unit)?;
        if !range.contains(&count) {
            return Err(format!(
                "{s}: between {} and {} {}",
                range.start(),
                range.end(),
                unit.name()
            ));
        }
        T::try_from(count).map_err(|_| format!("{s}: too large"))
    }
}

fn parse(s: &str, unit: Unit) -> Result<u64, String> {
    if let Ok(bare) = s.trim().parse::<u64>() {
        return Ok(bare);
    }
    let d = humantime::parse_duration(s).map_err(|e| {
        format!(
            "{s}: {e}; write a number of {} or e.g. 90s, 48h, 14d",
            unit.name()
        )
    })?;
    let millis = d.as_millis();
    if millis % unit.millis() != 0 {
        return Err(format!("{s}: not a whole number of {}", unit.name()));
    }
    u64::try_from(millis / unit.millis()).map_err(|_| format!("{s}: too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_numbers_keep_the_unit_and_humantime_is_converted() {
        let days = parser::<i64>(Unit::Days, 1..=3_650);
        assert_eq!(days("7"), Ok(7));
        assert_eq!(days("14d"), Ok(14));
        assert_eq!(days("2w"), Ok(14));
        assert_eq!(days("48h"), Ok(2));
        assert!(days("36h").unwrap_err().contains("whole number of days"));
        assert!(days("0").is_err());
        let hours = parser::<u64>(Unit::Hours, 1..=8_760);
        assert_eq!(hours("1d"), Ok(24));
        assert_eq!(hours("168"), Ok(168));
        let ms = parser::<u64>(Unit::Millis, 1..=600_000);
        assert_eq!(ms("2s"), Ok(2_000));
        assert_eq!(ms("250ms"), Ok(250));
        assert!(ms("h").is_err());
    }
}
