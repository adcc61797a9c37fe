//! The database thread: it owns the connection's work queue, runs calls alone and
//! commits waiting writes together in one transaction (group commit).

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::oneshot;
use webhooks_core::ports::StoreError;

use super::OrBackend;

/// The most writes one transaction takes; more wait for the next one.
const MAX_WRITES_PER_TRANSACTION: usize = 512;

/// Work for the database thread.
pub(super) enum Request {
    Call(Box<dyn FnOnce(&mut Connection) + Send>),
    Write(Box<dyn WriteOp>),
}

/// A write that can share a transaction with others, and be run again on its own if
/// a write beside it failed.
pub(super) trait WriteOp: Send {
    fn apply(&mut self, conn: &Connection) -> Result<(), StoreError>;
    /// Hands the outcome to the caller (after the commit, or with the error).
    fn finish(self: Box<Self>, result: Result<(), StoreError>);
}

pub(super) struct Write<T, F> {
    pub(super) work: F,
    pub(super) output: Option<T>,
    pub(super) reply: oneshot::Sender<Result<T, StoreError>>,
}

impl<T, F> WriteOp for Write<T, F>
where
    T: Send,
    F: FnMut(&Connection) -> Result<T, StoreError> + Send,
{
    fn apply(&mut self, conn: &Connection) -> Result<(), StoreError> {
        self.output = Some((self.work)(conn)?);
        Ok(())
    }

    fn finish(self: Box<Self>, result: Result<(), StoreError>) {
        let Write { output, reply, .. } = *self;
        let outcome = result.and_then(|()| {
            output.ok_or_else(|| StoreError::backend("a write finished without its result"))
        });
        let _ = reply.send(outcome);
    }
}

/// The database thread: takes what is waiting, commits the writes among it in one
/// transaction, then runs the calls, until every `Db` clone is gone.
pub(super) fn serve(mut conn: Connection, inbox: &mpsc::Receiver<Request>) {
    let mut calls = Vec::new();
    let mut writes: Vec<Box<dyn WriteOp>> = Vec::new();
    while let Ok(first) = inbox.recv() {
        let mut next = Some(first);
        while let Some(request) = next.take() {
            match request {
                Request::Call(call) => calls.push(call),
                Request::Write(write) => writes.push(write),
            }
            if writes.len() < MAX_WRITES_PER_TRANSACTION {
                next = inbox.try_recv().ok();
            }
        }
        if !writes.is_empty() {
            commit_writes(&mut conn, std::mem::take(&mut writes));
        }
        for call in calls.drain(..) {
            // A panic inside a call rolled its transaction back while unwinding, so
            // the connection is still usable; the caller hears of the panic through
            // its dropped reply.
            let _ = catch_unwind(AssertUnwindSafe(|| call(&mut conn)));
        }
    }
}

/// Commits `writes` in one transaction and answers each; if one fails, the batch is
/// rolled back and each write runs again in a transaction of its own, so only the
/// failing one reports the error.
fn commit_writes(conn: &mut Connection, mut writes: Vec<Box<dyn WriteOp>>) {
    let batch = catch_unwind(AssertUnwindSafe(|| -> Result<(), StoreError> {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .or_backend()?;
        for write in &mut writes {
            write.apply(&tx)?;
        }
        tx.commit().or_backend()
    }));
    if matches!(batch, Ok(Ok(()))) {
        for write in writes {
            write.finish(Ok(()));
        }
        return;
    }
    if writes.len() == 1 {
        let result = match batch {
            Ok(result) => result,
            Err(panic) => Err(panicked(&panic)),
        };
        if let Some(write) = writes.pop() {
            write.finish(result);
        }
        return;
    }
    for mut write in writes {
        let alone = catch_unwind(AssertUnwindSafe(|| -> Result<(), StoreError> {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .or_backend()?;
            write.apply(&tx)?;
            tx.commit().or_backend()
        }))
        .unwrap_or_else(|panic| Err(panicked(&panic)));
        write.finish(alone);
    }
}

fn panicked(panic: &Box<dyn Any + Send>) -> StoreError {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    StoreError::backend(format!("a database write panicked: {message}"))
}
