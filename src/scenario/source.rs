//! Places in a scenario file: its text and name ([`Source`]), a line and column ([`Place`]) and
//! the error that names them ([`ScenarioError`]). Used by the file reader and the bar steps alike.

use crate::config::line_col;
use std::fmt;
use std::ops::Range;

/// A problem in a scenario file, with its place when known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            (Some(l), None) => write!(f, "{}:{l}: {}", self.file, self.message),
            _ => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for ScenarioError {}

/// The text of a scenario file and its name, to turn byte offsets into places.
#[derive(Clone, Debug)]
pub struct Source {
    pub file: String,
    pub text: String,
}

impl Source {
    pub fn new(file: impl Into<String>, text: impl Into<String>) -> Self {
        Source {
            file: file.into(),
            text: text.into(),
        }
    }

    pub fn place(&self, offset: usize) -> Place {
        let (line, column) = line_col(&self.text, offset);
        Place { line, column }
    }

    pub fn error_at(&self, offset: usize, message: impl Into<String>) -> ScenarioError {
        self.place(offset).error(&self.file, message)
    }

    pub fn error_span(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        self.error_at(span.start, message)
    }

    pub fn error_at_line(&self, line: usize, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            line: Some(line),
            column: None,
            message: message.into(),
        }
    }

    pub fn error(&self, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: self.file.clone(),
            line: None,
            column: None,
            message: message.into(),
        }
    }
}

/// A line and column in a scenario file (1-based).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
}

impl Place {
    pub fn error(self, file: &str, message: impl Into<String>) -> ScenarioError {
        ScenarioError {
            file: file.to_string(),
            line: Some(self.line),
            column: Some(self.column),
            message: message.into(),
        }
    }
}
