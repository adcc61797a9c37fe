//! The rules of a custom header set, case by case.

use super::*;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[test]
fn every_reserved_name_is_refused_whatever_its_case() {
    let reserved = [
        "Host",
        "host",
        "Content-Type",
        "CONTENT-TYPE",
        "Content-Length",
        "Transfer-Encoding",
        "Connection",
        "user-agent",
        "X-Authorization-HMAC-256",
        "x-authorization-hmac-256",
        "X-Webhook-Id",
        "x-webhook-anything",
        "X-Delivery-Attempt",
        "X-DELIVERY-",
        "webhook-signature",
        "Webhook-Id",
        "WEBHOOK-custom",
    ];
    for name in reserved {
        // GIVEN a set with one reserved name
        // WHEN it is parsed
        let refused = CustomHeaders::parse(pairs(&[(name, "v")]));
        // THEN it is refused, naming the header
        assert_eq!(
            refused,
            Err(vec![HeaderRefusal::Reserved(name.to_owned())]),
            "{name}"
        );
        assert!(refused.unwrap_err()[0].to_string().contains(name));
    }
}

#[test]
fn names_near_the_reserved_ones_are_allowed() {
    for name in [
        "Authorization",
        "X-Webhook",
        "X-Deliveries",
        "Webhook",
        "webhookid",
        "Hosts",
        "X-Splunk-Request-Channel",
        "a",
        "!#$%&'*+-.^_`|~09",
    ] {
        // GIVEN a name that only resembles a reserved one WHEN parsed THEN it is kept
        let parsed = CustomHeaders::parse(pairs(&[(name, "v")]));
        assert_eq!(
            parsed.map(|h| h.names()),
            Ok(vec![name.to_owned()]),
            "{name}"
        );
    }
}

#[test]
fn names_and_values_are_held_to_their_limits() {
    let long_name = "N".repeat(MAX_HEADER_NAME_CHARS);
    let too_long_name = "N".repeat(MAX_HEADER_NAME_CHARS + 1);
    let long_value = "v".repeat(MAX_HEADER_VALUE_BYTES);
    let too_long_value = "v".repeat(MAX_HEADER_VALUE_BYTES + 1);
    let cases: Vec<(&str, &str, Option<HeaderRefusal>)> = vec![
        (&long_name, "v", None),
        (
            &too_long_name,
            "v",
            Some(HeaderRefusal::NameTooLong(long_name.clone())),
        ),
        ("", "v", Some(HeaderRefusal::EmptyName)),
        (
            "Bad Name",
            "v",
            Some(HeaderRefusal::NotAToken {
                prefix: "Bad".into(),
                position: 3,
            }),
        ),
        (
            "Authorization: Splunk",
            "v",
            Some(HeaderRefusal::NotAToken {
                prefix: "Authorization".into(),
                position: 13,
            }),
        ),
        (
            "Näme",
            "v",
            Some(HeaderRefusal::NotAToken {
                prefix: "N".into(),
                position: 1,
            }),
        ),
        ("A", &long_value, None),
        (
            "A",
            &too_long_value,
            Some(HeaderRefusal::ValueTooLong("A".into())),
        ),
        ("A", "", None),
        ("A", " Splunk  token ~!", None),
        ("A", "tab\there", Some(HeaderRefusal::BadValue("A".into()))),
        (
            "A",
            "line\r\nX-Injected: 1",
            Some(HeaderRefusal::BadValue("A".into())),
        ),
        ("A", "café", Some(HeaderRefusal::BadValue("A".into()))),
        ("A", "\u{7f}", Some(HeaderRefusal::BadValue("A".into()))),
    ];
    for (name, value, expected) in cases {
        // GIVEN one header WHEN it is parsed THEN it is kept or refused as the rule says
        let parsed = CustomHeaders::parse(pairs(&[(name, value)]));
        match expected {
            None => assert!(parsed.is_ok(), "{name:?}: {parsed:?}"),
            Some(refusal) => assert_eq!(parsed, Err(vec![refusal]), "{name:?}"),
        }
    }
}

#[test]
fn ten_headers_are_allowed_and_eleven_are_not() {
    // GIVEN sets of ten and of eleven headers
    let names: Vec<String> = (0..=MAX_HEADERS)
        .map(|i| format!("X-Custom-{i:02}"))
        .collect();
    let set = |count: usize| {
        names[..count]
            .iter()
            .map(|name| (name.clone(), "v".to_owned()))
            .collect::<Vec<_>>()
    };
    // WHEN both are parsed
    let ten = CustomHeaders::parse(set(MAX_HEADERS));
    let eleven = CustomHeaders::parse(set(MAX_HEADERS + 1));
    // THEN ten pass and eleven are refused
    assert_eq!(ten.map(|h| h.len()), Ok(MAX_HEADERS));
    assert_eq!(eleven, Err(vec![HeaderRefusal::TooMany(MAX_HEADERS + 1)]));
}

#[test]
fn names_differing_only_in_case_are_refused() {
    // GIVEN two spellings of one header
    let parsed = CustomHeaders::parse(pairs(&[("Authorization", "a"), ("authorization", "b")]));
    // WHEN parsed THEN the second is refused, naming both
    assert_eq!(
        parsed,
        Err(vec![HeaderRefusal::CaseDuplicate(
            "Authorization".into(),
            "authorization".into()
        )])
    );
}

#[test]
fn every_broken_rule_is_reported_at_once() {
    // GIVEN a set breaking two rules
    let parsed = CustomHeaders::parse(pairs(&[("Host", "x"), ("A", "\n")]));
    // WHEN parsed THEN both are named
    assert_eq!(
        parsed,
        Err(vec![
            HeaderRefusal::Reserved("Host".into()),
            HeaderRefusal::BadValue("A".into())
        ])
    );
}

#[test]
fn names_are_sorted_and_debug_and_errors_never_show_a_value() {
    // GIVEN a valid set with a secret-looking value
    let headers = CustomHeaders::parse(pairs(&[
        ("X-B", "s3cr3t-b"),
        ("Authorization", "Splunk s3cr3t-a"),
    ]))
    .unwrap();
    // WHEN its names, its Debug and a refusal of a bad value are shown
    let debug = format!("{headers:?}");
    let refusal = CustomHeaders::parse(pairs(&[("A", "s3cr3t\u{1}")])).unwrap_err();
    // THEN names are sorted, and no value appears anywhere
    assert_eq!(headers.names(), ["Authorization", "X-B"]);
    assert!(
        debug.contains("Authorization") && !debug.contains("s3cr3t"),
        "{debug}"
    );
    assert!(!refusal[0].to_string().contains("s3cr3t"));
}

#[test]
fn covering_answers_the_named_headers_only_when_all_are_stored() {
    // GIVEN stored values of A and B
    let stored = CustomHeaders::from_stored(pairs(&[("A", "1"), ("B", "2")]));
    // WHEN asked for subsets and for a name not stored
    let only_a = stored.covering(&["A".to_owned()]);
    let none = stored.covering(&[]);
    let missing = stored.covering(&["A".to_owned(), "C".to_owned()]);
    // THEN the named ones come back, and a missing one makes the answer None
    assert_eq!(
        only_a,
        Some(CustomHeaders::from_stored(pairs(&[("A", "1")])))
    );
    assert_eq!(none, Some(CustomHeaders::default()));
    assert_eq!(missing, None);
}
