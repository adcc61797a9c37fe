//! `SECRETS_MODE`: where webhook secrets live (docs/secrets.md), and what each mode
//! needs: `secrets-manager` (the default) one secret per webhook under
//! `SECRET_PREFIX`; `kms` the sealed items of `SECRETS_TABLE` under the key
//! `SECRETS_KMS_KEY_ID`, bound to the stack `SECRETS_STACK_TAG` when set.

use webhooks_core::config::{ConfigError, Env};

use super::{secret_prefix, secrets_stack_tag, table_name};

/// Where webhook secrets live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretsMode {
    /// One Secrets Manager secret per webhook, named `{prefix}{webhook_id}`.
    SecretsManager { prefix: String },
    /// Envelope-encrypted under one KMS key, in the secrets table.
    Kms {
        key_id: String,
        table: String,
        /// The encryption context's `stack` (`SECRETS_STACK_TAG`).
        stack: Option<String>,
    },
}

/// Reads `SECRETS_MODE` (`secrets-manager` when unset) and the variables its mode
/// needs.
pub fn secrets_mode(env: &dyn Env) -> Result<SecretsMode, ConfigError> {
    const NAME: &str = "SECRETS_MODE";
    let mode = env
        .var(NAME)
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty());
    match mode.as_deref() {
        None | Some("secrets-manager") => Ok(SecretsMode::SecretsManager {
            prefix: secret_prefix(env)?,
        }),
        Some("kms") => Ok(SecretsMode::Kms {
            key_id: kms_key_id(env)?,
            table: table_name(env, "SECRETS_TABLE")?,
            stack: secrets_stack_tag(env)?,
        }),
        Some(other) => Err(ConfigError::new(
            NAME,
            format!("must be secrets-manager or kms, not {other:?}"),
        )),
    }
}

/// `SECRETS_KMS_KEY_ID`: a key id, alias or ARN.
fn kms_key_id(env: &dyn Env) -> Result<String, ConfigError> {
    const NAME: &str = "SECRETS_KMS_KEY_ID";
    let value = env.required(NAME)?.trim().to_owned();
    let valid = (1..=2048).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/_-".contains(&b));
    if valid {
        Ok(value)
    } else {
        Err(ConfigError::new(
            NAME,
            format!("must be a KMS key id, alias or ARN, not {value:?}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::env;

    const KEY: &str = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    #[test]
    fn unset_is_secrets_manager_with_its_prefix() {
        // GIVEN no SECRETS_MODE; WHEN read; THEN today's per-webhook secrets
        assert_eq!(
            secrets_mode(&env(&[])).unwrap(),
            SecretsMode::SecretsManager {
                prefix: "webhooks/".into()
            }
        );
    }

    #[test]
    fn kms_reads_its_key_table_and_stack() {
        // GIVEN kms mode with its variables
        let vars = env(&[
            ("SECRETS_MODE", "kms"),
            ("SECRETS_KMS_KEY_ID", KEY),
            ("SECRETS_TABLE", "webhooks-secrets"),
            ("SECRETS_STACK_TAG", "webhooks-prod"),
        ]);
        // WHEN read; THEN all three are kept
        assert_eq!(
            secrets_mode(&vars).unwrap(),
            SecretsMode::Kms {
                key_id: KEY.into(),
                table: "webhooks-secrets".into(),
                stack: Some("webhooks-prod".into()),
            }
        );
    }

    #[test]
    fn an_unknown_mode_fails_naming_the_variable() {
        let error = secrets_mode(&env(&[("SECRETS_MODE", "vault")])).unwrap_err();
        assert_eq!(error.name, "SECRETS_MODE");
    }

    #[test]
    fn kms_without_a_key_or_a_table_fails_naming_it() {
        // GIVEN kms mode without its key
        let error =
            secrets_mode(&env(&[("SECRETS_MODE", "kms"), ("SECRETS_TABLE", "t")])).unwrap_err();
        // THEN the error names SECRETS_KMS_KEY_ID
        assert_eq!(error.name, "SECRETS_KMS_KEY_ID");
        // AND without its table, SECRETS_TABLE
        let error = secrets_mode(&env(&[
            ("SECRETS_MODE", "kms"),
            ("SECRETS_KMS_KEY_ID", KEY),
        ]))
        .unwrap_err();
        assert_eq!(error.name, "SECRETS_TABLE");
        // AND a malformed key
        let error = secrets_mode(&env(&[
            ("SECRETS_MODE", "kms"),
            ("SECRETS_KMS_KEY_ID", "a key"),
            ("SECRETS_TABLE", "t"),
        ]))
        .unwrap_err();
        assert_eq!(error.name, "SECRETS_KMS_KEY_ID");
    }
}
