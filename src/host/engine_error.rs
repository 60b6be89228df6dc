//! Why an engine could not be built or a new version could not be taken: a config problem with
//! its place, a script error with its line, or an I/O problem with its path. Its own module so
//! that the engine and the session line-up it builds both use it without using each other.

use crate::config::ConfigError;
use crate::strategy::StrategyError;

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("{0}")]
    Config(#[from] ConfigError),
    #[error("{0}")]
    Script(StrategyError),
    #[error("{0}")]
    Io(String),
}
