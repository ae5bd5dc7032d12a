//! The config file of `belfry serve` (`--config FILE`, TOML).
//!
//! Every key is the name of a `belfry serve` flag with `-` written `_`; a flag or environment
//! variable given as well overrides the file. Fault rules active from the start are a
//! `[[faults]]` array of tables with the fields of [`FaultRule`]:
//!
//! ```toml
//! listen = "127.0.0.1:8575"
//! data = "/var/lib/belfry"
//! rate_limit = "50/s"
//! burst = 100
//! admin_token = "change-me"
//! fault_seed = 7
//! console = "auto"
//!
//! [[faults]]
//! operation = "ListUsers"
//! probability = 0.3
//! error = "Throttled"
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::server::faults::FaultRule;

/// The contents of a config file: every option may be absent.
#[derive(Debug, Default, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<String>,
    pub data: Option<PathBuf>,
    pub database_url: Option<String>,
    pub db_max_connections: Option<u32>,
    pub demo: Option<bool>,
    pub root_access_key_id: Option<String>,
    pub root_secret_access_key: Option<String>,
    pub root_aws_account_id: Option<String>,
    /// `50/s`, `600/m`, `36000/h` or `off`.
    pub rate_limit: Option<String>,
    pub burst: Option<u32>,
    pub throttle_max_wait_ms: Option<u64>,
    pub admin_token: Option<String>,
    pub fault_seed: Option<u64>,
    pub phone_order_processing_ms: Option<u64>,
    /// `text` or `json`.
    pub log_format: Option<String>,
    pub shutdown_timeout_secs: Option<u64>,
    /// The web console: `auto` (on when listening on loopback), `on` or `off`.
    pub console: Option<String>,
    #[serde(default)]
    pub faults: Vec<FaultRule>,
}

impl FileConfig {
    /// Reads and parses a config file; the error names the file and the problem.
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("config file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("config file {}: {e}", path.display()))
    }

    /// Parses the TOML text of a config file.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::faults::FaultError;

    #[test]
    fn parses_options_and_fault_rules() {
        let config = FileConfig::parse(
            r#"
            listen = "0.0.0.0:9000"
            rate_limit = "50/s"
            burst = 10
            fault_seed = 7

            [[faults]]
            operation = "ListUsers"
            probability = 0.3
            error = "Throttled"

            [[faults]]
            latency_ms = 250
            "#,
        )
        .unwrap();
        assert_eq!(config.listen.as_deref(), Some("0.0.0.0:9000"));
        assert_eq!(config.burst, Some(10));
        assert_eq!(config.faults.len(), 2);
        assert_eq!(config.faults[0].error, Some(FaultError::Throttled));
        assert_eq!(config.faults[1].operation, "*");
        assert_eq!(config.faults[1].probability, 1.0);
        assert_eq!(config.data, None);
    }

    #[test]
    fn unknown_keys_are_errors() {
        let e = FileConfig::parse("listne = \"x\"").unwrap_err();
        assert!(e.contains("listne"), "{e}");
    }
}
