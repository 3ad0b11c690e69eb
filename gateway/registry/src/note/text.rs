//! A signed note as text: the note body (ending in a newline), a blank line, then one
//! `— <name> <base64(key id || signature)>` line per signature.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;

use super::{NoteError, check_key_name};

/// The em dash (U+2014) and space that open every signature line.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Verifiers must accept at least 16 signatures; more than this is refused as abuse.
pub const MAX_SIGNATURES: usize = 64;

/// One signature line: who signed (name and 32-bit key id) and the algorithm's signature bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: u32,
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// `— <name> <base64(key id || signature)>` with its newline.
    pub fn line(&self) -> String {
        let mut bytes = self.key_id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.signature);
        format!("{SIGNATURE_PREFIX}{} {}\n", self.name, B64.encode(bytes))
    }

    fn parse(line: &str) -> Result<Self, NoteError> {
        let bad = |why: &str| NoteError::Malformed(format!("signature line {line:?}: {why}"));
        let rest = line
            .strip_prefix(SIGNATURE_PREFIX)
            .ok_or_else(|| bad("does not start with an em dash and a space"))?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or_else(|| bad("no space after the key name"))?;
        check_key_name(name)?;
        let bytes = B64
            .decode(b64)
            .map_err(|_| bad("signature is not base64"))?;
        if bytes.len() < 5 {
            return Err(bad("shorter than a key id and a signature"));
        }
        let (id, signature) = bytes.split_at(4);
        let key_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        Ok(Self {
            name: name.to_string(),
            key_id,
            signature: signature.to_vec(),
        })
    }
}

/// A note: its text (the signed bytes, final newline included) and its signatures in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    /// An unsigned note over `text`, which must end in a newline and hold no control characters.
    pub fn new(text: impl Into<String>) -> Result<Self, NoteError> {
        let text = text.into();
        check_text(&text)?;
        Ok(Self {
            text,
            signatures: Vec::new(),
        })
    }

    /// Adds `sig`, replacing an earlier one by the same name and key id.
    pub fn add(&mut self, sig: NoteSignature) {
        self.signatures
            .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
        self.signatures.push(sig);
    }

    /// The whole note as it travels: text, blank line, signature lines.
    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            out.push_str(&s.line());
        }
        out
    }

    /// Parses a note: the text ends at the last blank line; every later line is a signature.
    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed(
                "holds a control character other than newline".into(),
            ));
        }
        let split = note
            .rfind("\n\n")
            .ok_or_else(|| NoteError::Malformed("no blank line before the signatures".into()))?;
        let (text, sigs) = (&note[..=split], &note[split + 2..]);
        check_text(text)?;
        if !sigs.ends_with('\n') {
            return Err(NoteError::Malformed(
                "the last signature line has no newline".into(),
            ));
        }
        let lines: Vec<&str> = sigs[..sigs.len() - 1].split('\n').collect();
        if lines.len() > MAX_SIGNATURES {
            return Err(NoteError::Malformed(format!(
                "{} signatures, at most {MAX_SIGNATURES} read",
                lines.len()
            )));
        }
        let signatures = lines
            .into_iter()
            .map(NoteSignature::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            text: text.to_string(),
            signatures,
        })
    }
}

fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() || !text.ends_with('\n') {
        return Err(NoteError::Malformed(
            "the text is empty or does not end in a newline".into(),
        ));
    }
    if text.chars().any(|c| c < ' ' && c != '\n') {
        return Err(NoteError::Malformed(
            "the text holds a control character other than newline".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";

    #[test]
    fn the_specification_example_parses_and_prints_back_byte_for_byte() {
        let note = SignedNote::parse(EXAMPLE).unwrap();
        assert_eq!(note.text, "This is an example message.\n");
        assert_eq!(note.signatures.len(), 1);
        assert_eq!(note.signatures[0].name, "example.com/foo");
        assert_eq!(note.signatures[0].key_id, 0x530d903a);
        assert_eq!(note.signatures[0].signature.len(), 64);
        assert_eq!(note.to_text(), EXAMPLE);
    }

    #[test]
    fn the_text_ends_at_the_last_blank_line() {
        let s = "a\n\nb\n\n\u{2014} k AAAAAAE=\n";
        let note = SignedNote::parse(s).unwrap();
        assert_eq!(note.text, "a\n\nb\n");
        assert_eq!(note.to_text(), s);
    }

    #[test]
    fn malformed_notes_are_refused() {
        for bad in [
            "",
            "no blank line\n\u{2014} k AAAAAAE=\n",
            "t\n\n\u{2014} k AAAAAAE=",
            "t\n\n- k AAAAAAE=\n",
            "t\n\n\u{2014} k not*base64\n",
            "t\n\n\u{2014} k AAAA\n",
            "t\n\n\u{2014} a+b AAAAAAE=\n",
            "t\n\n\u{2014}  AAAAAAE=\n",
            "t\r\n\n\u{2014} k AAAAAAE=\n",
            "t\n\n\u{2014} k AAAAAAE=\n\n",
        ] {
            assert!(SignedNote::parse(bad).is_err(), "{bad:?} was accepted");
        }
        assert!(SignedNote::new("no newline").is_err());
        assert!(SignedNote::new("tab\there\n").is_err());
    }

    #[test]
    fn too_many_signatures_are_refused_but_sixteen_are_read() {
        let line = "\u{2014} k AAAAAAE=\n";
        assert!(SignedNote::parse(&format!("t\n\n{}", line.repeat(16))).is_ok());
        assert!(SignedNote::parse(&format!("t\n\n{}", line.repeat(MAX_SIGNATURES + 1))).is_err());
    }

    #[test]
    fn adding_a_signature_again_replaces_it() {
        let mut note = SignedNote::new("t\n").unwrap();
        let sig = |b| NoteSignature {
            name: "k".into(),
            key_id: 1,
            signature: vec![b],
        };
        note.add(sig(1));
        note.add(sig(2));
        assert_eq!(note.signatures, vec![sig(2)]);
    }
}
