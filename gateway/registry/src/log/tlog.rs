//! The C2SP tlog-checkpoint note text of a [`Checkpoint`]: origin line, decimal tree size,
//! base64 root hash, each ending in a newline. Extension lines are read past and never written.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::checkpoint::{Checkpoint, CheckpointError};

impl Checkpoint {
    /// `<origin>\n<tree size>\n<base64 root hash>\n`, the text a log signs and witnesses cosign.
    pub fn note_text(&self) -> Result<String, CheckpointError> {
        Ok(format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.tree_size,
            B64.encode(self.root()?)
        ))
    }

    /// Reads a checkpoint's note text; extension lines after the root hash are allowed and ignored.
    pub fn from_note_text(text: &str) -> Result<Self, CheckpointError> {
        let bad = |why: &str| CheckpointError::Malformed(format!("checkpoint note: {why}"));
        let body = text
            .strip_suffix('\n')
            .ok_or_else(|| bad("does not end in a newline"))?;
        let mut lines = body.split('\n');
        let (Some(origin), Some(size), Some(root)) = (lines.next(), lines.next(), lines.next())
        else {
            return Err(bad("fewer than three lines"));
        };
        if origin.is_empty() || lines.any(str::is_empty) {
            return Err(bad("an empty origin or extension line"));
        }
        let canonical_size = size == "0" || (!size.starts_with('0') && !size.is_empty());
        let tree_size = size
            .parse::<u64>()
            .ok()
            .filter(|_| canonical_size && size.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| bad("the tree size is not a decimal without leading zeros"))?;
        let root: [u8; 32] = B64
            .decode(root)
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| bad("the root hash is not 32 bytes of base64"))?;
        Ok(Checkpoint::new(origin, tree_size, &root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str =
        "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_specification_checkpoint_reads_and_prints_back() {
        let cp = Checkpoint::from_note_text(SPEC).unwrap();
        assert_eq!(cp.origin, "example.com/behind-the-sofa");
        assert_eq!(cp.tree_size, 20852163);
        assert_eq!(cp.note_text().unwrap(), SPEC);
    }

    #[test]
    fn extension_lines_are_read_past() {
        let cp = Checkpoint::from_note_text(&format!("{SPEC}ext\n")).unwrap();
        assert_eq!(cp.tree_size, 20852163);
    }

    #[test]
    fn malformed_checkpoints_are_refused() {
        let root = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";
        for bad in [
            format!("o\n1\n{root}"),
            "o\n1\n".to_string(),
            format!("\n1\n{root}\n"),
            format!("o\n01\n{root}\n"),
            format!("o\n+1\n{root}\n"),
            format!("o\n\n{root}\n"),
            "o\n1\nAAAA\n".to_string(),
            format!("o\n1\n{root}\n\n"),
        ] {
            assert!(Checkpoint::from_note_text(&bad).is_err(), "{bad:?}");
        }
        let empty = Checkpoint::from_note_text(&format!("o\n0\n{root}\n")).unwrap();
        assert_eq!(empty.tree_size, 0);
    }
}
