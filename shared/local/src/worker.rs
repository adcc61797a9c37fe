//! The local worker loop: claims due jobs from the SQLite queue and runs them through
//! the core's [`Dispatcher`] with bounded concurrency, retries jobs whose stores
//! failed, and buries jobs it cannot read. The delivery log is pruned beside it
//! ([`Pruner`](crate::Pruner)).

use std::future::Future;
use std::time::Duration;

use futures::stream::{self, StreamExt};
use tokio::task::JoinSet;
use tracing::{error, info, warn, Instrument};
use webhooks_core::ports::StoreError;
use webhooks_core::usecases::delivery::{Dispatcher, Ran};

use crate::db::duration_millis;
use crate::queue::{Job, SqliteQueue};

/// The first wait after a job failed on a store error; it doubles per failure.
const FIRST_BACKOFF: Duration = Duration::from_secs(5);
/// The longest wait after a failed job.
const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);
/// How long a busy worker waits after a wake-up before claiming again.
const CLAIM_PAUSE: Duration = Duration::from_millis(1);
/// `run_until_idle` stops after this many claim rounds even if work keeps coming.
const MAX_IDLE_ROUNDS: usize = 1000;

#[derive(Clone, Debug)]
pub struct WorkerSettings {
    /// Jobs run at once.
    pub concurrency: usize,
    /// The longest the loop sleeps when idle.
    pub idle_poll: Duration,
    /// How long a claimed job stays invisible; a job running longer is claimed again.
    pub lease: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            // Jobs mostly wait: on receivers, and on a full lane's patience (the
            // dispatcher caps requests in flight per webhook and in all). With 64, the
            // jobs waiting on a hanging webhook's lane held most slots during a burst and
            // the healthy webhook's deliveries waited for one (bench noisy, burst: 1.5–1.6× the
            // busy control's completion time at 64, 1.1–1.3× at 256).
            concurrency: 256,
            idle_poll: Duration::from_secs(1),
            lease: Duration::from_secs(3600),
        }
    }
}

/// Runs one job; cheap to clone into a task.
#[derive(Clone)]
struct JobRunner {
    queue: SqliteQueue,
    dispatcher: Dispatcher,
}

impl JobRunner {
    async fn run(&self, job: Job) {
        // Debug: the warnings below name the job themselves.
        let span = tracing::debug_span!("job", job_id = job.id, kind = %job.kind);
        self.run_inner(job).instrument(span).await;
    }

    async fn run_inner(&self, job: Job) {
        let work = match job.work() {
            Ok(work) => work,
            Err(reason) => {
                match self.queue.bury(job.id, &reason).await {
                    Ok(()) => {
                        warn!(job_id = job.id, reason = %reason, "unreadable job moved to dead_jobs")
                    }
                    Err(error) => {
                        error!(job_id = job.id, reason = %reason, error = %error, "could not bury an unreadable job");
                    }
                }
                return;
            }
        };
        match work.run(&self.dispatcher, None).await {
            Ran::Done => {
                if let Err(error) = self.queue.complete(job.id).await {
                    warn!(job_id = job.id, error = %error, "could not remove a finished job; it will run again after its lease");
                }
            }
            Ran::Failed(failure) => {
                let retry_in = backoff(job.attempts);
                warn!(job_id = job.id, kind = %job.kind, error = %failure, failures = job.attempts + 1,
                    retry_in_ms = duration_millis(retry_in), "job failed on a store error; retrying later");
                if let Err(error) = self.queue.release(job.id, retry_in).await {
                    error!(job_id = job.id, error = %error, "could not release a failed job; it will run again after its lease");
                }
            }
        }
    }
}

/// The wait before a job that failed `failures` times before runs again.
fn backoff(failures: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(2u32.saturating_pow(failures.min(16)))
        .min(MAX_BACKOFF)
}

/// The local worker. Build it once per process: at start it takes over every job
/// leased by a previous run.
pub struct Worker {
    runner: JobRunner,
    settings: WorkerSettings,
}

impl Worker {
    pub fn new(queue: SqliteQueue, dispatcher: Dispatcher, settings: WorkerSettings) -> Self {
        Self {
            runner: JobRunner { queue, dispatcher },
            settings,
        }
    }

    fn concurrency(&self) -> usize {
        self.settings.concurrency.max(1)
    }

    /// Runs until `shutdown` resolves, then lets the jobs in flight finish. Fails
    /// only if the queue cannot be taken over at start; later store errors are
    /// logged and retried.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), StoreError> {
        let resumed = self.runner.queue.clear_leases().await?;
        if resumed > 0 {
            info!(jobs = resumed, "resuming jobs a previous run had started");
        }
        let concurrency = self.concurrency();
        let mut in_flight: JoinSet<()> = JoinSet::new();
        tokio::pin!(shutdown);
        info!(concurrency, "worker started");
        loop {
            let wait = self.claim_into(&mut in_flight, concurrency).await;
            let mut woken = true;
            tokio::select! {
                biased;
                () = &mut shutdown => break,
                Some(joined) = in_flight.join_next(), if !in_flight.is_empty() => {
                    report_join(joined);
                    // Take every other finished job too, so one claim fills their slots.
                    while let Some(joined) = in_flight.try_join_next() {
                        report_join(joined);
                    }
                }
                () = self.runner.queue.notified() => {}
                () = tokio::time::sleep(wait) => woken = false,
            }
            if woken && !in_flight.is_empty() {
                // Busy: let more work arrive and more jobs finish, so the next claim
                // takes several jobs in one write instead of one per wake-up.
                tokio::time::sleep(CLAIM_PAUSE).await;
            }
        }
        info!(
            in_flight = in_flight.len(),
            "worker stopping after the jobs in flight"
        );
        while let Some(joined) = in_flight.join_next().await {
            report_join(joined);
        }
        info!("worker stopped");
        Ok(())
    }

    /// Claims due jobs into the free slots; returns how long to sleep if nothing else
    /// wakes the loop.
    async fn claim_into(&self, in_flight: &mut JoinSet<()>, concurrency: usize) -> Duration {
        let free = concurrency.saturating_sub(in_flight.len());
        if free == 0 {
            // A finishing job wakes the loop.
            return self.settings.idle_poll;
        }
        // One write claims the free slots' worth and reads the next due time.
        let next_due = match self
            .runner
            .queue
            .claim_ready(free, self.settings.lease)
            .await
        {
            Ok((jobs, next_due)) => {
                for job in jobs {
                    let runner = self.runner.clone();
                    in_flight.spawn(async move { runner.run(job).await });
                }
                next_due
            }
            Err(error) => {
                warn!(error = %error, "could not claim jobs; trying again shortly");
                return self.settings.idle_poll;
            }
        };
        if in_flight.len() >= concurrency {
            return self.settings.idle_poll;
        }
        match next_due {
            Some(at) => self
                .runner
                .queue
                .now()
                .until(at)
                .min(self.settings.idle_poll),
            None => self.settings.idle_poll,
        }
    }

    /// Runs every job that is due, and those that become due meanwhile (retries
    /// with no delay), then returns how many ran. Stops after a bounded number of
    /// rounds. For tests and one-shot use; `run` is the service loop.
    pub async fn run_until_idle(&self) -> Result<usize, StoreError> {
        let mut ran = 0;
        for _ in 0..MAX_IDLE_ROUNDS {
            let jobs = self
                .runner
                .queue
                .claim_due(self.concurrency(), self.settings.lease)
                .await?;
            if jobs.is_empty() {
                return Ok(ran);
            }
            ran += jobs.len();
            stream::iter(jobs)
                .for_each_concurrent(self.concurrency(), |job| self.runner.run(job))
                .await;
        }
        warn!(
            rounds = MAX_IDLE_ROUNDS,
            "run_until_idle stopped with work still due"
        );
        Ok(ran)
    }
}

fn report_join(joined: Result<(), tokio::task::JoinError>) {
    if let Err(error) = joined {
        // The job's lease keeps it from running again until the lease ends.
        error!(error = %error, "a job panicked");
    }
}

#[cfg(test)]
mod tests;
