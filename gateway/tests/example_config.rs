//! `huren.example.toml` at the repository root, read by the real loader: as shipped it is the
//! defaults exactly, with every commented-out key enabled it still loads, and between them the
//! two name every key the loader knows.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use huren::config::{Config, ConfigError};

fn example() -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../huren.example.toml");
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Loads `text` as a `huren.toml` from a temporary directory through [`Config::load`].
fn load(text: &str) -> (Result<Config, ConfigError>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huren.toml");
    std::fs::write(&path, text).unwrap();
    (Config::load(&path), dir)
}

/// The example with every `# key = value` line turned into `key = value`.
fn enabled(text: &str) -> String {
    text.lines()
        .map(|line| match line.strip_prefix("# ") {
            Some(rest) if looks_like_a_key(rest) => rest,
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn looks_like_a_key(line: &str) -> bool {
    line.split_once(" = ").is_some_and(|(key, _)| {
        !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// The keys the loader knows in the table at `path` (empty: the top level), read from what it
/// says when refusing an unknown one, and recursively those of the tables among them. A field
/// that is a table refuses an unknown key in it; a leaf or a map refuses the table itself.
fn known_keys(path: &str, into: &mut BTreeSet<String>) {
    let header = if path.is_empty() {
        String::new()
    } else {
        format!("[{path}]\n")
    };
    let (loaded, _dir) = load(&format!("{header}no_such_key_probe = 1\n"));
    let refused = match loaded {
        Err(e) => e.to_string(),
        Ok(_) => panic!("the loader took an unknown key in [{path}]"),
    };
    let Some((_, expected)) = refused.split_once("expected one of ") else {
        return; // not a table of known keys: a leaf, or a map like tls.region_cas
    };
    let fields: Vec<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(!fields.is_empty(), "no fields in {refused}");
    for field in fields {
        let key = if path.is_empty() {
            field
        } else {
            format!("{path}.{field}")
        };
        if into.insert(key.clone()) {
            known_keys(&key, into);
        }
    }
}

/// Every key path the document sets, tables included.
fn keys_in(text: &str) -> BTreeSet<String> {
    fn walk(prefix: &str, table: &toml::Table, into: &mut BTreeSet<String>) {
        for (key, value) in table {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            if let toml::Value::Table(inner) = value {
                walk(&path, inner, into);
            }
            into.insert(path);
        }
    }
    let table: toml::Table = toml::from_str(text).expect("the example is TOML");
    let mut keys = BTreeSet::new();
    walk("", &table, &mut keys);
    keys
}

#[test]
fn the_example_config_is_the_defaults_and_names_every_key_the_loader_knows() {
    let text = example();
    let (shipped, _dir) = load(&text);
    let shipped = shipped.expect("the example loads as shipped");
    assert_eq!(
        format!("{shipped:?}"),
        format!("{:?}", Config::default()),
        "the values the example sets are not the defaults"
    );

    let all = enabled(&text);
    let (loaded, dir) = load(&all);
    let loaded = loaded.expect("the example loads with every key enabled");
    // Relative paths are read relative to the file, as the example says.
    assert_eq!(loaded.tls.pki, Some(PathBuf::from(dir.path()).join("pki")));

    let mut known = BTreeSet::new();
    known_keys("", &mut known);
    assert!(
        known.contains("limits.max_in_flight") && known.contains("node.audit_sync"),
        "{known:?}"
    );
    let documented = keys_in(&all);
    let missing: Vec<_> = known.difference(&documented).collect();
    assert!(missing.is_empty(), "huren.example.toml lacks {missing:?}");

    // Every key says its default and whether the environment overrides it.
    for key in &known {
        let leaf = key.rsplit('.').next().unwrap_or(key);
        let documented = text.lines().any(|l| {
            l.trim_start_matches("# ")
                .starts_with(&format!("{leaf} = "))
        });
        assert!(documented || text.contains(&format!("[{key}]")), "{key}");
    }
    for env in [
        "HUREN_CONFIG",
        "HUREN_LISTEN",
        "HUREN_ADMIN_LISTEN",
        "HUREN_PKI",
        "HUREN_TRUST_DOMAIN",
        "HUREN_REGISTRY",
        "HUREN_STATE",
        "HUREN_NODE_ID",
        "HUREN_RECEIPT_KEY",
        "HUREN_AUDIT_SYNC",
        "HUREN_LOG_FORMAT",
    ] {
        assert!(text.contains(env), "{env} is not documented");
    }
}
