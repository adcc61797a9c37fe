//! Finding which attempts a store refuses. A store that writes several attempts in
//! one call (DynamoDB's `BatchWriteItem`) may refuse the whole call for one of them;
//! the refused ones are appended again in halves until each refusal concerns one
//! attempt alone. Only a refusal of an attempt appended alone is final; every other
//! result stands as the store gave it.

use crate::domain::delivery_log::LoggedAttempt;
use crate::ports::{LogAppender, StoreError};

/// One result per attempt, in order: `Ok`, `Refused` for an attempt the store refused
/// on its own, or the error that failed it for now.
pub(super) async fn append_isolating(
    store: &dyn LogAppender,
    attempts: &[LoggedAttempt],
) -> Vec<Result<(), StoreError>> {
    let mut results: Vec<Option<Result<(), StoreError>>> = attempts.iter().map(|_| None).collect();
    let mut first = Some(store.append_each(attempts).await);
    // Groups of positions still to append together; the first is the whole batch.
    let mut groups: Vec<Vec<usize>> = vec![(0..attempts.len()).collect()];
    while let Some(group) = groups.pop() {
        let answers = match first.take() {
            Some(answers) => answers,
            None => {
                let batch: Vec<LoggedAttempt> =
                    group.iter().map(|&at| attempts[at].clone()).collect();
                store.append_each(&batch).await
            }
        };
        let mut answers = answers.into_iter();
        let mut refused = Vec::new();
        for &at in &group {
            match answers.next() {
                Some(Err(StoreError::Refused(_))) if group.len() > 1 => refused.push(at),
                Some(answer) => results[at] = Some(answer),
                None => results[at] = Some(Err(no_answer())),
            }
        }
        let second = refused.split_off(refused.len() / 2);
        groups.extend(
            [second, refused]
                .into_iter()
                .filter(|half| !half.is_empty()),
        );
    }
    results
        .into_iter()
        .map(|result| result.unwrap_or_else(|| Err(no_answer())))
        .collect()
}

/// A store that answered for fewer attempts than it was given: retry them.
fn no_answer() -> StoreError {
    StoreError::backend("the log store gave no result for this attempt")
}
