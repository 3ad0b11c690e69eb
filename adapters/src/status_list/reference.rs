//! Where a code's status lives: list id and index, packed into the code's signed serial.

use super::bits::MAX_CODES;

/// The position of one code in its issuer's status lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusRef {
    pub list_id: u32,
    pub index: u32,
}

impl StatusRef {
    /// `list_id << 32 | index`: the serial an issuer writes into a code that has a status entry.
    pub fn to_serial(self) -> u64 {
        (u64::from(self.list_id) << 32) | u64::from(self.index)
    }

    /// The reference a serial carries, if its index is one a list can hold. Only meaningful for
    /// codes of a format version that promises a status entry: older codes' serials are random.
    pub fn from_serial(serial: u64) -> Option<Self> {
        let index = (serial & u64::from(u32::MAX)) as u32;
        (index < MAX_CODES).then_some(Self {
            list_id: (serial >> 32) as u32,
            index,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_status_ref_round_trips_through_a_serial() {
        let r = StatusRef {
            list_id: 202_002,
            index: MAX_CODES - 1,
        };
        assert_eq!(StatusRef::from_serial(r.to_serial()), Some(r));
        assert_eq!(StatusRef::from_serial(u64::from(MAX_CODES)), None);
    }
}
