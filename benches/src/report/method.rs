//! The report's closing section: how each figure is measured.

use std::fmt::Write as _;

use super::Report;
use crate::aws_delivery::{BATCH_EVENTS, FAN_OUT};

impl Report {
    pub(super) fn method(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "## How it is measured\n\n\
             - `webhooks serve` is the binary of this build (profile {profile}), started fresh for every run on a new SQLite \
             file in a temporary directory, with the configuration a user gets (logs at `info` on \
             stderr, written to a file). The shape's webhooks are registered with a secret, so \
             every delivery carries both signatures.\n\
             - {conns} keep-alive HTTP/1.1 connections (hyper, one request at a time each) post the \
             events to `POST /events`. The rate is the deliveries divided by the time from the \
             first event sent until the receiver holds every delivery.\n\
             - The receiver is `bench receiver`: hyper on one thread, answering 200 with an empty \
             body at once, on keep-alive connections, in its own process.\n\
             - CPU per delivery is the service process's user + system time \
             (`/proc/PID/stat`, every thread) from just before the first event until the queue is \
             empty and every attempt is logged, divided by the deliveries. With SQLite embedded, \
             the service process is the whole service and its store. Every run checks that every \
             delivery was logged as `succeeded`.\n\
             - The limit reference runs as `bench limit`, a process of its own, beside every run \
             of a shape (after it, or before it in every other round): each delivery of the \
             shape built and signed as the service does \
             (`webhooks_core::usecases::delivery::delivery_request`, per request, B's to 100 \
             webhook paths), sent over keep-alive hyper HTTP/1.1 connections, as many as the \
             service may have open toward the receiver (its in-flight caps: 8 per webhook, 512 \
             in all), one request at a time each, on a multi-threaded tokio runtime as the \
             service's; no queue, no store, no log. Its rate is the deliveries over the time \
             from its first request to its last answer, its CPU that process's user + system \
             time (`/proc/PID/stat`, every thread) over the same span; every run checks that \
             the receiver got each delivery.\n\
             - The reference is svix-server (Rust, Postgres + Redis) measured on the same machine \
             kind with the same shapes, clients and receiver behaviour.\n\
             - Other work on the machine (the load average above) lowers rates more than it \
             raises CPU per delivery; compare CPU figures across runs first.",
            conns = self.connections,
            profile = self.build.describe()
        );
        if self.aws.is_some() {
            let _ = writeln!(
                out,
                "- AWS part: the functions are the binaries of this build (`webhooks-*`, \
                 stripped), each run as a process against a fake Lambda runtime API on \
                 loopback (`tests/src/runtime_api.rs`) and the pinned moto server \
                 (`scripts/moto.sh run`), with the environment they have on AWS (tables, queues, \
                 secret prefix; `WEBHOOKS_ALLOW_NETS=127.0.0.0/8`, `WEBHOOKS_REQUIRE_HTTPS=false` \
                 for the loopback receiver).\n\
                 - Delivery: {FAN_OUT} enabled webhooks of the batch's type, each with a secret in \
                 Secrets Manager, pointing at the receiver above. Each process gets one cold \
                 invocation (empty secrets cache, new connections) then warm ones, each a new \
                 batch of {BATCH_EVENTS} new events. Wall time runs from the invocation handed out \
                 on `/next` until the receiver holds every delivery and the answer is posted; every \
                 run checks that the answer hands nothing back, that the receiver got every delivery \
                 and that the function's own metrics (its EMF lines) count each as succeeded. \
                 Meanwhile the driver purges the logs queue every 50 ms, standing in for the \
                 log-writer's event source mapping that drains it on AWS: moto 5.2.5 counts a \
                 queue's messages on every `SendMessage`, so a queue left to fill would add a cost \
                 growing with its depth (about 25 s of moto CPU per batch of 1,000 sends). CPU is \
                 the function process's user + system time over the invocation; moto's own CPU \
                 (one Python process: the function's DynamoDB, Secrets Manager and SQS calls, \
                 and the purges) is read the same way from its pid and reported apart. On AWS \
                 those calls are network round trips instead: with moto's CPU bounding the wall \
                 time, wall time here is not Lambda's.\n\
                 - Init: from just before the spawn until the runtime API receives the \
                 function's first `GET /2018-06-01/runtime/invocation/next` (configuration read, \
                 AWS clients built, runtime started); the process is then killed. Spawns take \
                 turns across the functions. Lambda adds its own sandbox start on top.\n"
            );
        } else {
            let _ = writeln!(out);
        }
    }
}
