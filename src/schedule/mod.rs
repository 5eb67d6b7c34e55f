//! The schedule, decided purely: the send times people type, time zones, the next send
//! instant of a chat, and whether a day's excerpt is due now.
//!
//! Nothing here reads a clock or a database: `now`, the stored state and the ledger
//! entry are passed in, so every rule is a unit test away. The records themselves
//! ([`Subscription`], [`LedgerEntry`]) and their state changes are defined here too; the
//! store only persists them ([`crate::store`]), and the app turns decisions into
//! deliveries ([`crate::app::daily`]).
//!
//! - [`time`]: the send times and zones people type, and instants across daylight saving.
//! - [`due`]: whether a day's excerpt is due now (the rule excerpts, reminders, weekly
//!   tests and reports share).
//! - [`records`]: the subscription and delivery-ledger records and their state changes.

pub mod due;
pub mod records;
pub mod time;

pub use crate::calendar::local_date;
pub use due::*;
pub use records::*;
pub use time::*;

#[cfg(test)]
mod tests;
