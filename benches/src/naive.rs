//! The naive baseline: what a simple sender does — one delivery at a time, each on a
//! connection of its own. Each request is the real one (the core's
//! `delivery_request`: body, headers, both signatures); nothing is queued or logged.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use webhooks_core::domain::ids::WebhookId;
use webhooks_core::domain::signing::SigningSecrets;
use webhooks_core::domain::task::DeliveryTask;
use webhooks_core::domain::time::{Clock, SystemClock};
use webhooks_core::usecases::delivery::delivery_request;

use crate::fixtures::{self, SECRET};
use crate::http::Conn;
use crate::proc::cpu_time;
use crate::stats;
use crate::Result;

#[derive(Clone, Copy, Debug)]
pub struct NaiveRun {
    pub deliveries: u64,
    pub wall: Duration,
    /// This process's CPU time over the run (it does nothing else meanwhile).
    pub cpu: Duration,
}

impl NaiveRun {
    pub fn rate(&self) -> f64 {
        stats::per_second(self.deliveries, self.wall)
    }

    pub fn cpu_us_per_delivery(&self) -> f64 {
        stats::micros_each(self.cpu, self.deliveries)
    }
}

/// Sends `deliveries` signed deliveries to `receiver`, one after the other, each on a
/// new connection.
pub async fn run(receiver: SocketAddr, deliveries: usize) -> Result<NaiveRun> {
    let url = url::Url::parse(&format!("http://{receiver}/hook/naive"))?;
    let webhook = WebhookId::from_trusted("wh_bench_naive");
    let secrets = SigningSecrets {
        current: SECRET.to_owned(),
        previous: None,
    };
    let me = std::process::id();
    let cpu_before = cpu_time(me)?;
    let started = Instant::now();
    for n in 0..deliveries {
        let task = DeliveryTask::first(fixtures::event(n), webhook.clone());
        let request = delivery_request(
            url.clone(),
            &task,
            Some(&secrets),
            &Default::default(),
            SystemClock.now(),
            Duration::from_secs(5),
        );
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let mut conn = Conn::open(receiver).await?;
        let (status, _) = conn
            .send(
                "POST",
                request.url.path(),
                &headers,
                Bytes::clone(&request.body),
            )
            .await?;
        if status != 200 {
            return Err(format!("the receiver answered {status}").into());
        }
    }
    let wall = started.elapsed();
    let cpu = cpu_time(me)?.saturating_sub(cpu_before);
    Ok(NaiveRun {
        deliveries: deliveries as u64,
        wall,
        cpu,
    })
}
