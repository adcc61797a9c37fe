//! The tests that need the moto emulator: the AWS adapters' conformance, the Lambda
//! functions' real binaries, and the producers' examples.

mod admin_races;
mod conformance_aws;
mod conformance_sinks;
mod isolation_lambda;
mod lambda_functions;
mod producers;
