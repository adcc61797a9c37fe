//! The SAM template's deployment side: the delivery function is published behind an
//! alias that its queues invoke and CodeDeploy shifts (rolled back by alarms that
//! exist), tracing is a parameter, producers of other accounts are let in by a
//! parameter, the dashboard shows every queue, and the outputs name what ops need.

use std::collections::BTreeSet;

use serde_json::Value as Json;
use serde_yaml::Value;

use super::infra_template::{event_sources, intrinsic, one_or_many, ref_of, sub_of, Template};

#[test]
fn the_delivery_function_is_deployed_through_its_alias_and_rolled_back_by_its_alarms() {
    // GIVEN the delivery function
    let template = Template::load();
    let properties = &template.resource("DeliveryFunction")["Properties"];
    // WHEN its deployment is read
    let alias = properties["AutoPublishAlias"].as_str();
    let preference = &properties["DeploymentPreference"];
    // THEN it publishes an alias, shifted as the DeliveryDeploymentType parameter says
    assert_eq!(alias, Some("live"));
    assert_eq!(ref_of(&preference["Type"]), Some("DeliveryDeploymentType"));
    let types = one_or_many(&template.doc["Parameters"]["DeliveryDeploymentType"]["AllowedValues"]);
    assert!(types
        .iter()
        .any(|t| t.as_str().unwrap().starts_with("Canary")));
    assert!(types
        .iter()
        .any(|t| t.as_str().unwrap().starts_with("Linear")));
    // AND each rollback alarm is an alarm of the template on the delivery function
    let rollback: Vec<&str> = one_or_many(&preference["Alarms"])
        .into_iter()
        .map(|a| ref_of(a).expect("an alarm is !Ref of the template's"))
        .collect();
    assert!(rollback.contains(&"DeliveryErrorsAlarm"), "{rollback:?}");
    assert!(rollback.len() >= 2, "{rollback:?}");
    for id in rollback {
        assert_eq!(
            template.resource(id)["Type"].as_str(),
            Some("AWS::CloudWatch::Alarm"),
            "{id}"
        );
    }
    // AND both its queues invoke the alias, not the unpublished function
    let sources: Vec<_> = event_sources(&template)
        .into_iter()
        .filter(|s| s.function == "DeliveryFunction")
        .collect();
    let queues: BTreeSet<&str> = sources.iter().map(|s| s.queue.as_str()).collect();
    assert_eq!(queues, BTreeSet::from(["EventsQueue", "RetryQueue"]));
    for source in &sources {
        assert!(
            source.alias,
            "{}: the mapping invokes DeliveryFunction.Alias",
            source.queue
        );
    }
    assert!(
        properties["Events"].is_null(),
        "no SAM Events beside the mappings"
    );
}

#[test]
fn tracing_is_a_parameter_of_every_function() {
    let template = Template::load();
    let parameter = &template.doc["Parameters"]["Tracing"];
    let allowed: BTreeSet<&str> = one_or_many(&parameter["AllowedValues"])
        .into_iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(allowed, BTreeSet::from(["Active", "PassThrough"]));
    assert_eq!(
        ref_of(&template.doc["Globals"]["Function"]["Tracing"]),
        Some("Tracing")
    );
    // (each role's X-Ray grant: infra_template's each_function_role_allows_exactly_...)
    for (id, function) in template.of_type("AWS::Serverless::Function") {
        assert!(
            function["Properties"]["Tracing"].is_null(),
            "{id}: Tracing from Globals"
        );
    }
}

#[test]
fn producer_accounts_may_send_to_the_events_queue_when_given() {
    // GIVEN the ProducerAccountIds parameter, empty by default
    let template = Template::load();
    let parameter = &template.doc["Parameters"]["ProducerAccountIds"];
    assert_eq!(parameter["Default"].as_str(), Some(""));
    let condition = &template.doc["Conditions"]["HasProducerAccounts"];
    assert!(
        format!("{condition:?}").contains("ProducerAccountIds"),
        "{condition:?}"
    );
    // WHEN the events queue's policy is read
    let policies: Vec<&Value> = template
        .of_type("AWS::SQS::QueuePolicy")
        .into_iter()
        .map(|(_, p)| &p["Properties"])
        .filter(|p| {
            one_or_many(&p["Queues"])
                .into_iter()
                .any(|q| ref_of(q) == Some("EventsQueue"))
        })
        .collect();
    assert_eq!(policies.len(), 1, "a queue has one policy");
    let statements = one_or_many(&policies[0]["PolicyDocument"]["Statement"]);
    // THEN it refuses plain HTTP, and allows SendMessage to the accounts only under the
    // condition
    assert!(statements
        .iter()
        .any(|s| s["Sid"].as_str() == Some("DenyPlainHttp")));
    let producers = statements
        .iter()
        .find_map(|s| match intrinsic(s) {
            Some((name, arguments)) if name == "If" => Some(arguments),
            _ => None,
        })
        .expect("a conditional statement");
    assert_eq!(producers[0].as_str(), Some("HasProducerAccounts"));
    assert_eq!(producers[1]["Action"].as_str(), Some("sqs:SendMessage"));
    assert!(format!("{:?}", producers[1]["Principal"]["AWS"]).contains("ProducerAccountIds"));
    assert_eq!(ref_of(&producers[2]), Some("AWS::NoValue"));
}

/// The dashboard's body (the `!Sub` string) and the JSON it is once each `${...}`
/// placeholder is replaced by `<...>`.
fn dashboard(template: &Template) -> (String, Json) {
    let body = sub_of(&template.resource("Dashboard")["Properties"]["DashboardBody"])
        .expect("DashboardBody is a !Sub")
        .to_owned();
    let json = restore_braces(&body);
    let parsed = serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
    (body, parsed)
}

/// `${X}` becomes `<X>`, leaving the JSON's braces alone.
fn restore_braces(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find('}').expect("a closed placeholder") + start;
        out.push('<');
        out.push_str(&rest[start + 2..end]);
        out.push('>');
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

#[test]
fn the_dashboard_is_json_showing_every_queue_deliveries_and_each_function() {
    // GIVEN the dashboard's body
    let template = Template::load();
    let (body, parsed) = dashboard(&template);
    // WHEN it is read, THEN it is JSON with widgets
    let widgets = parsed["widgets"].as_array().expect("widgets");
    assert!(widgets.len() >= 8);
    // AND it names each queue's depth and age, every function and the API
    for (queue, _) in template.of_type("AWS::SQS::Queue") {
        assert!(body.contains(&format!("${{{queue}.QueueName}}")), "{queue}");
    }
    for (function, _) in template.of_type("AWS::Serverless::Function") {
        assert!(body.contains(&format!("${{{function}}}")), "{function}");
    }
    let text = parsed.to_string();
    for metric in [
        "ApproximateNumberOfMessagesVisible",
        "ApproximateAgeOfOldestMessage",
        "Deliveries",
        "DeliveryLatency",
        "WebhooksDisabled",
        "ReadThrottleEvents",
        "WriteThrottleEvents",
        "Duration",
        "ConcurrentExecutions",
        "Errors",
        "5xx",
    ] {
        assert!(
            text.contains(&format!("\"{metric}\"")),
            "the dashboard shows {metric}"
        );
    }
}

#[test]
fn the_outputs_name_every_queue_and_log_group() {
    let template = Template::load();
    let outputs = &template.doc["Outputs"];
    let value = |name: &str| {
        let output = &outputs[name]["Value"];
        assert!(!output.is_null(), "no output {name}");
        output
    };
    for queue in [
        "EventsQueue",
        "EventsDeadLetterQueue",
        "RetryQueue",
        "RetryDeadLetterQueue",
        "LogsQueue",
        "LogsDeadLetterQueue",
    ] {
        assert_eq!(
            ref_of(value(&format!("{queue}Url"))),
            Some(queue),
            "{queue}Url"
        );
        assert!(format!("{:?}", value(&format!("{queue}Arn"))).contains(queue));
    }
    for group in ["Api", "TestConnection", "Delivery", "LogWriter"] {
        assert_eq!(
            ref_of(value(&format!("{group}LogGroupName"))),
            Some(format!("{group}LogGroup").as_str())
        );
    }
    assert_eq!(ref_of(value("StackAlarmTopicArn")), Some("AlarmTopic"));
    assert_eq!(
        ref_of(value("DeliveryFunctionAlias")),
        Some("DeliveryFunction.Alias")
    );
    assert!(sub_of(value("DashboardUrl")).is_some_and(|s| s.contains("${Dashboard}")));
}
