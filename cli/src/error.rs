//! The one error type of the `webhooks` command. `main` prints it as a single
//! `error: ...` line on stderr and exits with [`CliError::exit_code`].

use std::net::SocketAddr;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// A flag's value is unusable (checked after clap parsed it). Exit code 2, like
    /// clap's own usage errors.
    #[error("{flag}: {message}")]
    InvalidArgument { flag: &'static str, message: String },

    /// The API did not answer at all.
    #[error("cannot reach the webhooks API at {url} (is `webhooks serve` running?)")]
    Unreachable { url: String },

    /// The API answered with an error; the text is its problem+json rendered on one line.
    #[error("{0}")]
    Api(String),

    /// A local address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },

    /// Whoever read stdout went away (`webhooks logs | head`): stop without a message.
    #[error("stdout was closed")]
    StdoutClosed,

    /// Anything else that went wrong at run time, already phrased for the user.
    #[error("{0}")]
    Runtime(String),
}

impl CliError {
    pub fn invalid_argument(flag: &'static str, message: impl Into<String>) -> Self {
        CliError::InvalidArgument {
            flag,
            message: message.into(),
        }
    }

    pub fn runtime(message: impl Into<String>) -> Self {
        CliError::Runtime(message.into())
    }

    /// 2 for a usage error (as clap uses), 0 when stdout's reader went away, 1 for
    /// everything that failed at run time.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::InvalidArgument { .. } => 2,
            CliError::StdoutClosed => 0,
            _ => 1,
        }
    }

    /// The message as one line: whatever a server or the OS put in it, newlines and
    /// other control characters are folded into spaces.
    pub fn one_line(&self) -> String {
        let text = self.to_string();
        let folded: String = text
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        folded.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_errors_exit_2_and_runtime_errors_exit_1() {
        assert_eq!(CliError::invalid_argument("--data", "x").exit_code(), 2);
        assert_eq!(CliError::runtime("x").exit_code(), 1);
        let unreachable = CliError::Unreachable {
            url: "http://127.0.0.1:1".into(),
        };
        assert_eq!(unreachable.exit_code(), 1);
    }

    #[test]
    fn messages_are_folded_onto_one_line() {
        let err = CliError::Api("Bad Request (400):\nfirst\r\n  second".into());
        assert_eq!(err.one_line(), "Bad Request (400): first second");
    }

    #[test]
    fn an_invalid_argument_names_its_flag() {
        let err = CliError::invalid_argument("--data", "must be a JSON object");
        assert_eq!(err.to_string(), "--data: must be a JSON object");
    }
}
