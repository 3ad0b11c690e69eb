//! What a registry says a status word should get: the reverse-testing prober's expectation,
//! from the issuing region's concept map and the agreement that covers the pair, with no I/O.
//!
//! The prediction is the agreement's own written rule for the colour the concept map gives the
//! word. It deliberately does not copy the recognition engine's safety overrides (PENDING and
//! UNKNOWN are always REVIEW, degraded reads, status lists, a frozen registry): an agreement
//! whose rule for a colour can never take effect (for instance PENDING → HOME_QUARANTINE while
//! the concept map still maps the word to PENDING) is then a mismatch the prober shows, which
//! is the point of reverse testing. The dev agreements write REVIEW for both, so a healthy
//! federation matches everywhere. Only the code's age is checked, because the prober's persons
//! are freshly issued: a stale code is a prober fault, not the federation's.

use huren_adapters::Colour;
use time::OffsetDateTime;

use crate::doc::{Agreement, ConceptMap, Verdict};

/// One synthetic person's status as the prober issued it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issued<'a> {
    /// The issuing region's own word, e.g. "灰码".
    pub label: &'a str,
    /// When the issuing region set the status (the code's refresh or signing time).
    pub refreshed_at: OffsetDateTime,
}

/// The verdict the registry predicts, and what it was predicted from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prediction {
    /// The colour the concept map gives the word (UNKNOWN when it lists no such word).
    pub colour: Colour,
    pub verdict: Verdict,
    /// From the agreement's rule; 0 unless the verdict is a quarantine.
    pub quarantine_days: u32,
    /// The agreement the prediction follows, `None` when no agreement covers the pair.
    pub agreement: Option<String>,
}

/// The verdict `issued` should get at `now` under `agreement` (what `Registry::agreement` gives
/// for the pair then), with the issuing region's `concept_map` (`None`: the registry does not
/// delegate the region, so every word is UNKNOWN).
pub fn predict(
    concept_map: Option<&ConceptMap>,
    agreement: Option<&Agreement>,
    issued: Issued<'_>,
    now: OffsetDateTime,
) -> Prediction {
    let colour = concept_map.map_or(Colour::Unknown, |map| {
        map.translate(issued.label, issued.refreshed_at, now)
    });
    let Some(agreement) = agreement else {
        return review(colour, None);
    };
    if now - issued.refreshed_at > agreement.max_code_age() {
        return review(colour, Some(agreement));
    }
    let rule = agreement.rules.get(colour);
    let quarantine_days = match rule.verdict {
        Verdict::HomeQuarantine | Verdict::CentralQuarantine => rule.quarantine_days,
        _ => 0,
    };
    Prediction {
        colour,
        verdict: rule.verdict,
        quarantine_days,
        agreement: Some(agreement.id.clone()),
    }
}

fn review(colour: Colour, agreement: Option<&Agreement>) -> Prediction {
    Prediction {
        colour,
        verdict: Verdict::Review,
        quarantine_days: 0,
        agreement: agreement.map(|a| a.id.clone()),
    }
}

#[cfg(test)]
mod tests {
    use time::Duration;
    use time::macros::datetime;

    use super::*;
    use crate::dev::{agreements, concept_map};
    use crate::doc::Rule;

    const NOW: OffsetDateTime = datetime!(2020-02-20 08:00 UTC);

    fn agreement(id: &str) -> Agreement {
        agreements(NOW)
            .into_iter()
            .find(|a| a.id == id)
            .expect("a dev agreement")
    }

    fn fresh(label: &str) -> Issued<'_> {
        Issued {
            label,
            refreshed_at: NOW - Duration::minutes(1),
        }
    }

    fn verdict_of(region: &str, id: &str, label: &str) -> (Colour, Verdict, u32) {
        let p = predict(
            Some(&concept_map(region)),
            Some(&agreement(id)),
            fresh(label),
            NOW,
        );
        (p.colour, p.verdict, p.quarantine_days)
    }

    #[test]
    fn the_national_agreement_decides_each_colour_of_a_region() {
        use Verdict::*;
        let cases = [
            ("绿码", Colour::Green, Pass, 0),
            ("黄码", Colour::Yellow, HomeQuarantine, 7),
            ("红码", Colour::Red, CentralQuarantine, 14),
            ("灰码", Colour::Pending, Review, 0),
        ];
        for (label, colour, verdict, days) in cases {
            assert_eq!(
                verdict_of("420000", "national", label),
                (colour, verdict, days),
                "{label}"
            );
        }
    }

    #[test]
    fn a_bilateral_rule_and_its_days_come_from_the_agreement() {
        assert_eq!(
            verdict_of("420000", "440000-420000", "黄码"),
            (Colour::Yellow, Verdict::CentralQuarantine, 14)
        );
        let p = predict(
            Some(&concept_map("420000")),
            Some(&agreement("440000-420000")),
            fresh("黄码"),
            NOW,
        );
        assert_eq!(p.agreement.as_deref(), Some("440000-420000"));
    }

    #[test]
    fn a_word_the_concept_map_does_not_list_is_unknown() {
        assert_eq!(
            verdict_of("440000", "national", "黄码"),
            (Colour::Unknown, Verdict::Review, 0)
        );
        let p = predict(None, Some(&agreement("national")), fresh("绿码"), NOW);
        assert_eq!((p.colour, p.verdict), (Colour::Unknown, Verdict::Review));
    }

    #[test]
    fn no_agreement_is_review_whatever_the_colour() {
        let p = predict(Some(&concept_map("330000")), None, fresh("绿码"), NOW);
        assert_eq!(
            p,
            Prediction {
                colour: Colour::Green,
                verdict: Verdict::Review,
                quarantine_days: 0,
                agreement: None,
            }
        );
    }

    #[test]
    fn a_code_older_than_the_agreement_allows_is_review_and_one_at_the_limit_is_not() {
        let national = agreement("national");
        let map = concept_map("330000");
        let aged = |age: Duration| {
            predict(
                Some(&map),
                Some(&national),
                Issued {
                    label: "黄码",
                    refreshed_at: NOW - age,
                },
                NOW,
            )
        };
        let limit = national.max_code_age();
        let at_limit = aged(limit);
        assert_eq!(
            (at_limit.verdict, at_limit.quarantine_days),
            (Verdict::HomeQuarantine, 7)
        );
        let over = aged(limit + Duration::seconds(1));
        assert_eq!((over.verdict, over.quarantine_days), (Verdict::Review, 0));
        assert_eq!(over.colour, Colour::Yellow);
        assert_eq!(over.agreement.as_deref(), Some("national"));
    }

    #[test]
    fn hubei_green_lapses_by_the_concept_map_from_its_refresh() {
        // Guangdong wants a code from today: a 2-day-old green is stale there, but lapses
        // (three days) only under an agreement that still accepts its age.
        let mut lenient = agreement("national");
        lenient.max_code_age_secs = 10 * 86_400;
        let p = predict(
            Some(&concept_map("420000")),
            Some(&lenient),
            Issued {
                label: "绿码",
                refreshed_at: NOW - Duration::days(3),
            },
            NOW,
        );
        assert_eq!(
            (p.colour, p.verdict),
            (Colour::Yellow, Verdict::HomeQuarantine)
        );
    }

    #[test]
    fn a_rule_written_for_pending_is_predicted_as_written() {
        // The engine never lets PENDING decide; predicting the written rule is what shows an
        // agreement that relies on a concept map change nobody made.
        let mut changed = agreement("440000-420000");
        changed
            .rules
            .set(Colour::Pending, Rule::new(Verdict::HomeQuarantine, 7));
        let p = predict(
            Some(&concept_map("420000")),
            Some(&changed),
            fresh("灰码"),
            NOW,
        );
        assert_eq!(
            (p.colour, p.verdict, p.quarantine_days),
            (Colour::Pending, Verdict::HomeQuarantine, 7)
        );
        changed
            .rules
            .set(Colour::Pending, Rule::new(Verdict::Pass, 3));
        let p = predict(
            Some(&concept_map("420000")),
            Some(&changed),
            fresh("灰码"),
            NOW,
        );
        assert_eq!((p.verdict, p.quarantine_days), (Verdict::Pass, 0));
    }
}
