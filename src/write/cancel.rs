//! Graceful cancel: the first SIGTERM or SIGINT becomes an event for the
//! sync's loop (stop reading, let batches in flight land, emit what is
//! earned, fail as cancelled); a second one ends the process at once.

use std::sync::mpsc::Sender;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use super::Event;

/// Exit code after a second signal (128 + SIGTERM, as a shell reports it).
const FORCED_EXIT: i32 = 143;

/// Starts the signal thread.
pub(crate) fn spawn(events: Sender<Event>) -> Result<(), String> {
    let mut signals = Signals::new([SIGTERM, SIGINT])
        .map_err(|e| format!("cannot listen for SIGTERM/SIGINT: {e}"))?;
    std::thread::Builder::new()
        .name("signals".into())
        .spawn(move || {
            let mut seen = false;
            for signal in signals.forever() {
                if seen {
                    eprintln!("destination-hubspot: second signal: exiting at once");
                    std::process::exit(FORCED_EXIT);
                }
                seen = true;
                let name = if signal == SIGINT {
                    "SIGINT"
                } else {
                    "SIGTERM"
                };
                if events.send(Event::Cancel(name)).is_err() {
                    std::process::exit(FORCED_EXIT);
                }
            }
        })
        .map_err(|e| format!("cannot start the signal thread: {e}"))?;
    Ok(())
}
