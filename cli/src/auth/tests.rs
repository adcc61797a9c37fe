use super::*;

const API_HOST: &str = "abc123.execute-api.eu-west-1.amazonaws.com";

#[test]
fn without_auth_the_host_and_the_token_pick_the_mode() {
    // GIVEN (requested, host, token set) => the mode used
    let cases = [
        (None, API_HOST, false, AuthMode::SigV4),
        (
            None,
            "ABC.Execute-Api.us-east-1.AmazonAWS.com.",
            false,
            AuthMode::SigV4,
        ),
        (None, API_HOST, true, AuthMode::Bearer),
        (None, "127.0.0.1", true, AuthMode::Bearer),
        (None, "127.0.0.1", false, AuthMode::None),
        (None, "api.example.com", false, AuthMode::None),
        (None, "amazonaws.com.example.org", false, AuthMode::None),
        (Some(AuthMode::SigV4), "127.0.0.1", true, AuthMode::SigV4),
        (Some(AuthMode::None), API_HOST, true, AuthMode::None),
        (Some(AuthMode::Bearer), API_HOST, true, AuthMode::Bearer),
    ];
    for (requested, host, token_set, expected) in cases {
        // WHEN the mode is chosen
        let chosen = AuthMode::choose(requested, host, token_set);

        // THEN it is the expected one
        assert_eq!(
            chosen, expected,
            "{requested:?} on {host} with token {token_set}"
        );
    }
}

#[test]
fn auth_accepts_its_three_values_in_any_case_and_names_the_flag_otherwise() {
    // GIVEN the values --auth takes, THEN each parses
    for (text, mode) in [
        ("sigv4", AuthMode::SigV4),
        ("SigV4", AuthMode::SigV4),
        ("bearer", AuthMode::Bearer),
        (" none ", AuthMode::None),
    ] {
        assert_eq!(AuthMode::parse(text).unwrap(), mode, "{text}");
    }

    // WHEN another value is given
    let error = AuthMode::parse("iam").unwrap_err();

    // THEN it is a usage error naming the flag and the values
    assert_eq!(error.exit_code(), 2);
    assert_eq!(
        error.to_string(),
        "--auth: \"iam\" is not one of sigv4, bearer, none"
    );
}

#[test]
fn the_region_is_the_label_after_execute_api_on_an_aws_host() {
    // GIVEN hosts => the region they name
    let cases = [
        (API_HOST, Some("eu-west-1")),
        (
            "x.execute-api.us-gov-west-1.amazonaws.com",
            Some("us-gov-west-1"),
        ),
        (
            "x.execute-api.cn-north-1.amazonaws.com.cn",
            Some("cn-north-1"),
        ),
        (
            "x-vpce-0123.execute-api.ap-southeast-2.vpce.amazonaws.com",
            Some("ap-southeast-2"),
        ),
        ("X.EXECUTE-API.EU-WEST-3.AMAZONAWS.COM", Some("eu-west-3")),
        ("x.execute-api.amazonaws.com", None),
        ("x.lambda-url.eu-west-1.on.aws", None),
        ("x.execute-api.eu-west-1.example.com", None),
        ("api.example.com", None),
        ("127.0.0.1", None),
    ];
    for (host, expected) in cases {
        // WHEN the region is read from the host, THEN it is the expected one
        assert_eq!(region_from_host(host).as_deref(), expected, "{host}");
    }
}

#[test]
fn the_region_flag_wins_then_the_host_then_the_aws_chain() {
    // GIVEN (flag, host, chain's region) => the region signed for
    let cases = [
        (Some("us-east-2"), API_HOST, Some("ap-south-1"), "us-east-2"),
        (None, API_HOST, Some("ap-south-1"), "eu-west-1"),
        (None, "api.example.com", Some("ap-south-1"), "ap-south-1"),
        (Some(" sa-east-1 "), "127.0.0.1", None, "sa-east-1"),
    ];
    for (flag, host, chain, expected) in cases {
        // WHEN the region is chosen, THEN it is the expected one
        assert_eq!(
            signing_region(flag, host, chain).unwrap(),
            expected,
            "{flag:?} {host} {chain:?}"
        );
    }
}

#[test]
fn no_region_or_a_bad_one_is_a_usage_error_naming_region() {
    // GIVEN a host without a region and no other source, or a malformed --region
    let missing = signing_region(None, "api.example.com", None).unwrap_err();
    let malformed = signing_region(Some("EU West"), API_HOST, None).unwrap_err();

    // THEN both name --region and exit 2
    assert!(missing.to_string().starts_with("--region: "), "{missing}");
    assert!(missing.to_string().contains("AWS_REGION"), "{missing}");
    assert!(
        malformed.to_string().starts_with("--region: "),
        "{malformed}"
    );
    assert_eq!(missing.exit_code(), 2);
    assert_eq!(malformed.exit_code(), 2);
}

#[tokio::test]
async fn bearer_without_a_token_is_a_usage_error() {
    // GIVEN --auth bearer and no token
    // WHEN the authentication is resolved
    let error = Auth::resolve(Some("bearer"), "127.0.0.1", None, None)
        .await
        .unwrap_err();

    // THEN it says the token is missing, naming --auth
    assert_eq!(error.exit_code(), 2);
    assert!(
        error.to_string().starts_with("--auth: bearer needs"),
        "{error}"
    );
}

#[tokio::test]
async fn a_token_is_sent_as_bearer_and_none_sends_nothing() {
    // GIVEN a local API and a token
    // WHEN it is resolved without --auth, and with --auth none
    let bearer = Auth::resolve(None, "127.0.0.1", Some("t0k".into()), None)
        .await
        .unwrap();
    let none = Auth::resolve(Some("none"), "127.0.0.1", Some("t0k".into()), None)
        .await
        .unwrap();

    // THEN the token is used, then not
    assert!(
        matches!(bearer, Auth::Bearer(ref t) if t == "t0k"),
        "{bearer:?}"
    );
    assert!(matches!(none, Auth::None), "{none:?}");
}
