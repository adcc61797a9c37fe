//! The JSON log line of every function: one flat object per event, with the event's
//! fields (`message` among them), `level`, `target`, and the fields of every span
//! the event happened in, outermost first: the invocation's `request_id`, a queue
//! record's `message_id`, and whatever inner spans add. An event's own field wins
//! over a span's of the same name. CloudWatch Logs Insights discovers each key as a
//! field (docs/operations.md).

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The flat JSON event format (see the module).
#[derive(Debug, Default, Clone, Copy)]
pub struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut line = Map::new();
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("target".into(), event.metadata().target().into());
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else {
                    continue;
                };
                // JsonFields writes a span's fields as one JSON object.
                if let Ok(Value::Object(fields)) = serde_json::from_str(fields.as_str()) {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields into the line.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), value.to_string().into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

/// The subscriber every function logs through: [`FlatJson`] lines to `writer`, span
/// fields kept as JSON, no timestamps (CloudWatch adds them).
pub fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_env_filter(filter)
        .with_writer(writer)
        .finish()
}

#[cfg(test)]
mod tests {
    use crate::capture::CapturedLogs;

    #[test]
    fn a_line_carries_its_fields_and_every_enclosing_spans_flat() {
        // GIVEN the functions' subscriber writing to a buffer
        let logs = CapturedLogs::default();
        let _default = tracing::subscriber::set_default(logs.subscriber());
        // WHEN an event is logged inside an invocation span and a record span, and one
        // overrides a span field
        let invocation = tracing::error_span!("invocation", request_id = "req-1");
        let _invocation = invocation.enter();
        tracing::info!("started");
        let record = tracing::info_span!("record", message_id = "m-1");
        let _record = record.enter();
        tracing::warn!(
            attempt = 2,
            ok = false,
            message_id = "m-own",
            "delivery failed"
        );
        // THEN each line is one flat object with the span fields, outermost first
        let lines = logs.lines();
        assert_eq!(
            lines,
            vec![
                serde_json::json!({"level": "INFO", "target": module_path!(),
                    "request_id": "req-1", "message": "started"}),
                serde_json::json!({"level": "WARN", "target": module_path!(),
                    "request_id": "req-1", "message_id": "m-own", "attempt": 2, "ok": false,
                    "message": "delivery failed"}),
            ]
        );
    }
}
