//! The recognition node's settings, from `huren.toml`: `[node]`, `[federation]` and `[lookup]`.

use std::path::PathBuf;
use std::time::Duration;

use huren::config::{Config, DEFAULT_STATE};
use huren::node::NodeConfig;

/// What the node is assembled from, with the trust registry at `registry`.
pub(super) fn node_config(config: &Config, registry: PathBuf) -> anyhow::Result<NodeConfig> {
    let settings = &config.node;
    let mut node = NodeConfig::new(
        registry,
        settings
            .state
            .clone()
            .unwrap_or_else(|| PathBuf::from(DEFAULT_STATE)),
    );
    node.audit.sync = settings
        .audit_sync
        .parse()
        .map_err(|e: String| anyhow::anyhow!("node.audit_sync: {e}"))?;
    node.default_deadline = Duration::from_millis(settings.default_deadline_ms);
    node.registry_poll =
        (settings.registry_poll_ms > 0).then(|| Duration::from_millis(settings.registry_poll_ms));
    // Below 100 ms a refresh would spin on a slow peer; the registry's max_status_list_age is
    // what bounds staleness, this only how soon a change shows.
    node.revocations_every = Duration::from_millis(settings.status_lists_refresh_ms.max(100));
    if let Some(id) = &settings.node_id {
        node.node_id = id.clone();
    }
    node.receipt_key = settings.receipt_key.clone();
    node.audit_key = settings.audit_key.clone();
    node.witness_key = settings.witness_key.clone();
    node.publisher = config.federation.publisher;
    node.follow = config.federation.follow.clone();
    node.follow_poll = Duration::from_millis(config.federation.follow_poll_ms.max(100));
    node.status_client.identity = crate::pki::gateway_identity(&config.tls);
    node.status_client.cache_capacity = config.lookup.status_cache_capacity;
    node.status_client.connections_per_region = config.lookup.connections_per_region;
    Ok(node)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> anyhow::Result<NodeConfig> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("huren.toml");
        std::fs::write(&path, text)?;
        let config = Config::load(&path)?;
        node_config(&config, PathBuf::from("registry"))
    }

    #[test]
    fn the_lookup_and_audit_settings_reach_the_node() {
        let node = load(
            "[node]\naudit_sync = \"unsynced\"\n\
             [lookup]\nconnections_per_region = 7\nstatus_cache_capacity = 0\n",
        )
        .unwrap();
        assert_eq!(node.status_client.connections_per_region, 7);
        assert_eq!(node.status_client.cache_capacity, 0);
        assert_eq!(node.audit.sync, huren_audit::SyncPolicy::Unsynced);
    }

    #[test]
    fn the_defaults_are_the_client_s_own() {
        let node = load("").unwrap();
        let defaults = huren_adapters::net::ClientConfig::default();
        assert_eq!(
            node.status_client.connections_per_region,
            defaults.connections_per_region
        );
        assert_eq!(node.status_client.cache_capacity, defaults.cache_capacity);
    }

    #[test]
    fn an_unknown_audit_policy_is_refused_by_name() {
        let err = load("[node]\naudit_sync = \"sometimes\"\n").unwrap_err();
        assert!(err.to_string().contains("node.audit_sync"), "{err}");
    }
}
