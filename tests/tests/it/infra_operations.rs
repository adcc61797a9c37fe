//! The SAM template's alarms against this project: every alarm notifies the stack's
//! topic (and AlarmTopicArn when given), each function, queue and DLQ has the alarms
//! the runbook (docs/operations.md) explains, the DLQ alarms fire again on each
//! increase, and the business alarms read the stack's own EMF series.

use std::collections::BTreeSet;

use serde_yaml::Value;

use super::infra_template::{
    dead_letter_queues, get_att, intrinsic, one_or_many, ref_of, sub_of, Template, FUNCTIONS,
};

/// Every `AWS::CloudWatch::Alarm`, by logical id, with its properties.
fn alarms(template: &Template) -> Vec<(&str, &Value)> {
    template
        .of_type("AWS::CloudWatch::Alarm")
        .into_iter()
        .map(|(id, alarm)| (id, &alarm["Properties"]))
        .collect()
}

/// The alarms on `metric` of `namespace` (a plain metric alarm) with the dimension
/// `dimension` whose value `matches`.
fn alarms_on<'a>(
    template: &'a Template,
    namespace: &str,
    metric: &str,
    dimension: &str,
    matches: impl Fn(&Value) -> bool,
) -> Vec<&'a Value> {
    alarms(template)
        .into_iter()
        .map(|(_, p)| p)
        .filter(|p| p["Namespace"].as_str() == Some(namespace))
        .filter(|p| p["MetricName"].as_str() == Some(metric))
        .filter(|p| {
            one_or_many(&p["Dimensions"])
                .into_iter()
                .any(|d| d["Name"].as_str() == Some(dimension) && matches(&d["Value"]))
        })
        .collect()
}

fn fires_above_zero(alarm: &Value) -> bool {
    alarm["ComparisonOperator"].as_str() == Some("GreaterThanThreshold")
        && alarm["Threshold"].as_u64() == Some(0)
}

/// The topics a list of actions notifies whatever the conditions: its `!Ref X` items
/// (not those inside an `!If`).
fn always_notified(actions: &Value) -> BTreeSet<String> {
    let mut topics = BTreeSet::new();
    for action in one_or_many(actions) {
        if let Some(topic) = ref_of(action) {
            topics.insert(topic.to_owned());
        }
    }
    topics
}

#[test]
fn every_alarm_notifies_the_stacks_topic_and_the_given_one() {
    // GIVEN the template's alarm topic and its optional e-mail subscription
    let template = Template::load();
    let topic = template.resource("AlarmTopic");
    assert_eq!(topic["Type"].as_str(), Some("AWS::SNS::Topic"));
    let subscription = template.resource("AlarmEmailSubscription");
    assert_eq!(subscription["Condition"].as_str(), Some("HasAlarmEmail"));
    assert_eq!(
        ref_of(&subscription["Properties"]["Endpoint"]),
        Some("AlarmEmail")
    );
    let all = alarms(&template);
    assert!(
        all.len() >= 20,
        "the template has its alarms: {}",
        all.len()
    );
    // WHEN each alarm's actions are read
    for (id, alarm) in all {
        // THEN each notifies AlarmTopic always, and AlarmTopicArn when it is given
        let actions = &alarm["AlarmActions"];
        assert!(
            always_notified(actions).contains("AlarmTopic"),
            "{id}: AlarmActions include !Ref AlarmTopic"
        );
        let conditional =
            one_or_many(actions)
                .into_iter()
                .filter_map(intrinsic)
                .any(|(name, arguments)| {
                    name == "If"
                        && arguments[0].as_str() == Some("HasAlarmTopic")
                        && ref_of(&arguments[1]) == Some("AlarmTopicArn")
                        && ref_of(&arguments[2]) == Some("AWS::NoValue")
                });
        assert!(
            conditional,
            "{id}: AlarmActions add AlarmTopicArn when HasAlarmTopic"
        );
        let ok = &alarm["OKActions"];
        assert!(
            ok.is_null() || always_notified(ok).contains("AlarmTopic"),
            "{id}: OKActions, when set, include AlarmTopic"
        );
    }
}

/// The `Metrics` entry of a metric-math alarm with this `Id`.
fn query<'a>(alarm: &'a Value, id: &str) -> &'a Value {
    one_or_many(&alarm["Metrics"])
        .into_iter()
        .find(|m| m["Id"].as_str() == Some(id))
        .unwrap_or_else(|| panic!("no metric {id} in {alarm:?}"))
}

#[test]
fn every_dead_letter_queue_has_a_growth_alarm_that_notifies_again_on_each_increase() {
    let template = Template::load();
    let dlqs: BTreeSet<String> = dead_letter_queues(&template).into_values().collect();
    assert_eq!(dlqs.len(), 3, "the three DLQs");
    for dlq in &dlqs {
        // GIVEN the alarm that watches the DLQ's depth through metric math
        let watching: Vec<&Value> = alarms(&template)
            .into_iter()
            .map(|(_, a)| a)
            .filter(|a| {
                one_or_many(&a["Metrics"]).into_iter().any(|m| {
                    let metric = &m["MetricStat"]["Metric"];
                    metric["MetricName"].as_str() == Some("ApproximateNumberOfMessagesVisible")
                        && get_att(&metric["Dimensions"][0]["Value"])
                            == Some((dlq.clone(), "QueueName".to_owned()))
                })
            })
            .collect();
        assert_eq!(watching.len(), 1, "{dlq}: one growth alarm");
        let alarm = watching[0];
        // WHEN its returned expression is read
        let returned: Vec<&Value> = one_or_many(&alarm["Metrics"])
            .into_iter()
            .filter(|m| m["ReturnData"].as_bool() == Some(true))
            .collect();
        assert_eq!(returned.len(), 1, "{dlq}: one returned series");
        let expression = returned[0]["Expression"].as_str().unwrap_or("");
        // THEN it is the increase of the depth (DIFF or RATE), not the depth itself,
        // so the alarm goes back to OK and fires again on the next increase
        assert!(
            expression.contains("DIFF(") || expression.contains("RATE("),
            "{dlq}: the alarm is on the depth's increase, not {expression:?}"
        );
        assert!(
            alarm["MetricName"].is_null(),
            "{dlq}: not a plain depth alarm"
        );
        assert!(fires_above_zero(alarm), "{dlq}: any increase");
        assert_eq!(
            query(alarm, "depth")["MetricStat"]["Stat"].as_str(),
            Some("Maximum")
        );
    }
}

#[test]
fn every_function_has_error_and_throttle_alarms() {
    let template = Template::load();
    for f in &FUNCTIONS {
        for metric in ["Errors", "Throttles"] {
            let alarms = alarms_on(&template, "AWS/Lambda", metric, "FunctionName", |v| {
                ref_of(v) == Some(f.logical_id)
            });
            assert!(
                alarms.iter().any(|a| fires_above_zero(a)),
                "{}: an alarm on any {metric}",
                f.logical_id
            );
        }
    }
}

#[test]
fn every_consumed_queue_has_an_alarm_on_work_left_waiting() {
    let template = Template::load();
    // Events and log records are consumed as they come: the oldest one's age says.
    for queue in ["EventsQueue", "LogsQueue"] {
        let alarms = alarms_on(
            &template,
            "AWS/SQS",
            "ApproximateAgeOfOldestMessage",
            "QueueName",
            |v| get_att(v) == Some((queue.to_owned(), "QueueName".to_owned())),
        );
        assert_eq!(alarms.len(), 1, "{queue}: an age alarm");
        let seconds = alarms[0]["Threshold"].as_u64().unwrap_or(0);
        assert!(
            (300..=1800).contains(&seconds),
            "{queue}: waits of {seconds} s"
        );
    }
    // Delivery tasks not yet due are held hidden for hours, so the retry queue's
    // alarm is on due tasks left visible, sustained.
    let alarms = alarms_on(
        &template,
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        |v| get_att(v) == Some(("RetryQueue".to_owned(), "QueueName".to_owned())),
    );
    assert_eq!(alarms.len(), 1, "RetryQueue: a backlog alarm");
    assert_eq!(
        alarms[0]["Statistic"], "Minimum",
        "sustained, not a moment's"
    );
    let periods = alarms[0]["EvaluationPeriods"].as_u64().unwrap_or(0)
        * alarms[0]["Period"].as_u64().unwrap_or(0);
    assert!((600..=1800).contains(&periods), "over {periods} s");
}

/// The named alarm's properties, checking it is one.
fn alarm<'a>(template: &'a Template, id: &str) -> &'a Value {
    let resource = template.resource(id);
    assert_eq!(
        resource["Type"].as_str(),
        Some("AWS::CloudWatch::Alarm"),
        "{id}"
    );
    &resource["Properties"]
}

/// A metric as an alarm reads it: namespace, name, and its dimensions' names and
/// values (literal, or `!Ref X`).
type MetricRead = (String, String, Vec<(String, String)>);

/// Every metric an alarm reads, plain or through metric math.
fn metrics_read(alarm: &Value) -> Vec<MetricRead> {
    let describe = |m: &Value| {
        let dimensions = one_or_many(&m["Dimensions"])
            .into_iter()
            .filter(|d| !d.is_null())
            .map(|d| {
                // (`as_str` would see through the tag of a `!Ref`)
                let value = ref_of(&d["Value"])
                    .map(|r| format!("!Ref {r}"))
                    .or_else(|| d["Value"].as_str().map(str::to_owned))
                    .unwrap_or_else(|| format!("{:?}", d["Value"]));
                (d["Name"].as_str().unwrap_or("").to_owned(), value)
            })
            .collect();
        let namespace = m["Namespace"]
            .as_str()
            .map(str::to_owned)
            .or_else(|| sub_of(&m["Namespace"]).map(|s| format!("!Sub {s}")))
            .unwrap_or_default();
        (
            namespace,
            m["MetricName"].as_str().unwrap_or("").to_owned(),
            dimensions,
        )
    };
    if alarm["Metrics"].is_null() {
        return vec![describe(alarm)];
    }
    one_or_many(&alarm["Metrics"])
        .into_iter()
        .filter(|m| !m["MetricStat"].is_null())
        .map(|m| describe(&m["MetricStat"]["Metric"]))
        .collect()
}

fn stack_and_outcome(outcome: &str) -> Vec<(String, String)> {
    vec![
        ("Stack".to_owned(), "!Ref AWS::StackName".to_owned()),
        ("Outcome".to_owned(), outcome.to_owned()),
    ]
}

#[test]
fn the_business_alarms_read_the_stacks_own_delivery_metrics() {
    let template = Template::load();
    // GIVEN the alarms on the EMF metrics of shared/core/src/metrics.rs
    let deliveries = |outcome| {
        (
            "Webhooks".to_owned(),
            "Deliveries".to_owned(),
            stack_and_outcome(outcome),
        )
    };
    // WHEN their metrics are read, THEN each is in the Webhooks namespace, in the series
    // of this stack
    assert_eq!(
        metrics_read(alarm(&template, "DeliveriesExhaustedAlarm")),
        [deliveries("exhausted")]
    );
    assert_eq!(
        metrics_read(alarm(&template, "DeliveriesDisabledAlarm")),
        [deliveries("disabled")]
    );
    assert_eq!(
        metrics_read(alarm(&template, "WebhooksDisabledAlarm")),
        [(
            "Webhooks".to_owned(),
            "WebhooksDisabled".to_owned(),
            vec![("Stack".to_owned(), "!Ref AWS::StackName".to_owned())]
        )]
    );
    // AND the success rate divides the successes by every outcome that is an attempt
    let rate = alarm(&template, "DeliverySuccessRateAlarm");
    assert_eq!(
        metrics_read(rate),
        ["succeeded", "retrying", "exhausted", "disabled"].map(deliveries)
    );
    let expression = query(rate, "rate")["Expression"].as_str().unwrap();
    assert!(expression.contains("/ attempts"), "{expression}");
    assert_eq!(
        rate["ComparisonOperator"].as_str(),
        Some("LessThanThreshold")
    );
}

#[test]
fn dynamodb_throttles_of_both_tables_and_the_index_are_alarmed() {
    let template = Template::load();
    let read = |id| metrics_read(alarm(&template, id));
    let webhooks = read("WebhooksTableThrottlesAlarm");
    let logs = read("DeliveryLogsTableThrottlesAlarm");
    for metric in ["ReadThrottleEvents", "WriteThrottleEvents"] {
        let table = |m: &MetricRead, table: &str, index: bool| {
            m.1 == metric
                && m.2
                    .contains(&("TableName".to_owned(), format!("!Ref {table}")))
                && m.2
                    .iter()
                    .any(|(name, _)| name == "GlobalSecondaryIndexName")
                    == index
        };
        assert!(
            webhooks.iter().any(|m| table(m, "WebhooksTable", false)),
            "{metric}"
        );
        assert!(
            webhooks.iter().any(|m| table(m, "WebhooksTable", true)),
            "{metric} by_event"
        );
        assert!(
            logs.iter().any(|m| table(m, "DeliveryLogsTable", false)),
            "{metric}"
        );
    }
}

#[test]
fn the_api_and_the_delivery_duration_are_alarmed() {
    let template = Template::load();
    for (id, metric) in [
        ("ApiServerErrorsAlarm", "5xx"),
        ("ApiLatencyAlarm", "Latency"),
    ] {
        let p = alarm(&template, id);
        assert_eq!(p["Namespace"].as_str(), Some("AWS/ApiGateway"), "{id}");
        assert_eq!(p["MetricName"].as_str(), Some(metric), "{id}");
        assert_eq!(
            ref_of(&p["Dimensions"][0]["Value"]),
            Some("HttpApi"),
            "{id}"
        );
    }
    // The duration alarm goes off before the function's Timeout.
    let duration = alarm(&template, "DeliveryDurationAlarm");
    assert_eq!(duration["MetricName"].as_str(), Some("Duration"));
    let timeout_ms = template.resource("DeliveryFunction")["Properties"]["Timeout"]
        .as_u64()
        .unwrap()
        * 1000;
    let threshold = duration["Threshold"].as_u64().unwrap();
    assert!(
        threshold < timeout_ms && threshold >= timeout_ms * 8 / 10,
        "{threshold} ms is near {timeout_ms} ms"
    );
}
