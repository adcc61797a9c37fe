//! The SAM template's access scoping: a stack's secrets are its own (the default
//! prefix is the stack's name), JWT tokens need a read or admin scope per route, and
//! with IAM authorization a read-only caller policy stands beside the admin one.

use super::infra_template::{intrinsic, one_or_many, ref_of, sub_of, Template};

#[test]
fn the_secret_prefix_defaults_to_the_stacks_name() {
    // GIVEN the SecretPrefix parameter WHEN read THEN its default is empty, which means
    // the stack's name (the functions' SECRET_PREFIX and the IAM resources say so)
    let template = Template::load();
    let parameter = &template.doc["Parameters"]["SecretPrefix"];
    assert_eq!(parameter["Default"].as_str(), Some(""));
    let condition = &template.doc["Conditions"]["HasSecretPrefix"];
    assert!(
        format!("{condition:?}").contains("SecretPrefix"),
        "{condition:?}"
    );
}

#[test]
fn with_jwt_every_route_needs_a_scope_reads_taking_the_read_one() {
    // GIVEN every route of the HTTP API
    let template = Template::load();
    let routes = template.of_type("AWS::ApiGatewayV2::Route");
    assert!(routes.len() >= 13);
    for (id, route) in routes {
        let properties = &route["Properties"];
        let key = properties["RouteKey"].as_str().unwrap();
        // WHEN its scopes are read
        let (name, arguments) = intrinsic(&properties["AuthorizationScopes"])
            .unwrap_or_else(|| panic!("{id}: no AuthorizationScopes"));
        let arguments = arguments.as_sequence().unwrap();
        // THEN they apply when JWT scopes are required, else none
        assert_eq!(name, "If", "{id}");
        assert_eq!(arguments[0].as_str(), Some("UseJwtScopes"), "{id}");
        assert_eq!(ref_of(&arguments[2]), Some("AWS::NoValue"), "{id}");
        let scopes: Vec<&str> = one_or_many(&arguments[1])
            .iter()
            .filter_map(|scope| scope.as_str())
            .collect();
        // AND a read takes either scope, anything else the admin one only
        if key.starts_with("GET ") {
            assert_eq!(scopes, ["webhooks/read", "webhooks/admin"], "{key}");
        } else {
            assert_eq!(scopes, ["webhooks/admin"], "{key}");
        }
    }
}

#[test]
fn a_read_only_caller_policy_may_invoke_only_the_get_routes() {
    // GIVEN the read-only caller policy WHEN its statement is read
    let template = Template::load();
    let policy = &template.resource("ApiReadOnlyCallerPolicy")["Properties"]["PolicyDocument"];
    let statements = one_or_many(&policy["Statement"]);
    assert_eq!(statements.len(), 1);
    let statement = &statements[0];
    // THEN it invokes only GET routes of this API, and the stack outputs its ARN
    assert_eq!(statement["Action"].as_str(), Some("execute-api:Invoke"));
    let resource = sub_of(&statement["Resource"]).unwrap();
    assert!(resource.ends_with(":${HttpApi}/*/GET/*"), "{resource}");
    assert!(!template.doc["Outputs"]["ApiReadOnlyCallerPolicyArn"].is_null());
}
