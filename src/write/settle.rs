//! The settle stage, on the sync's loop: a landed batch's records are
//! counted, its rejections reported (a merged record HubSpot refused is
//! separated from the others, which are sent again), the written records
//! that ask for associations are handed to the association stage, and a
//! landed association job completes the records it held. Each time, the
//! states everything before has earned are emitted.

use super::batcher::{Batch, Entry};
use super::dispatch::{LinksSent, Sent};
use super::links::Problem;
use super::pump::{write_size, Pump};
use super::{merged, redact};
use crate::hubspot::batch::Written;
use crate::hubspot::errors::RejectReason;
use crate::hubspot::HubSpotError;
use crate::protocol::FailureType;

impl Pump<'_> {
    /// Counts a landed batch's records, reports its rejections, holds the
    /// records with associations to make, and emits the states it earned.
    pub(super) fn settle(&mut self, sent: Sent) {
        self.dispatch.landed(&sent);
        let results = match sent.result {
            Ok(results) => results,
            Err(e) => return self.fail(e),
        };
        let out = self.out;
        let mut retry = Vec::new();
        let target = sent.batch.target;
        let key = self.targets.targets[target].key.clone();
        for (entry, written) in sent.batch.entries.into_iter().zip(results) {
            let n = entry.origins.len() as u64;
            match written {
                Written::Ok { id, .. } if entry.write.archive => {
                    self.deletions.archived(n, id.is_some());
                }
                Written::Ok { created, id } => {
                    *if created {
                        &mut self.created
                    } else {
                        &mut self.updated
                    } += 1;
                    self.counts.written += n;
                    if let Some(id) = &id {
                        self.links.learn(target, entry.write.key(), id);
                    }
                    // A dry run plans writes only: no association is made.
                    if !entry.write.links.is_empty() && !self.dry_run {
                        self.associate(&entry, id);
                        continue;
                    }
                }
                Written::Rejected(reason) => {
                    // HubSpot's text may quote the values it refused.
                    let reason = if self.config.log_record_data {
                        reason
                    } else {
                        redact::scrub(&reason, &entry.write)
                    };
                    let shown_key = entry.write.key().to_string();
                    // Only the record whose value was refused is rejected;
                    // the others of a merged entry are sent again.
                    let merge = self.batches[target].merge();
                    let separated = merged::separate(entry, &reason, merge, &key);
                    for o in &separated.rejected {
                        self.rejects.record(
                            o.line,
                            Some(&shown_key),
                            o.data.as_ref(),
                            &reason,
                            out,
                        );
                        self.checkpoint.settle(o.window, 0, 1);
                    }
                    self.counts.rejected += separated.rejected.len() as u64;
                    retry.extend(separated.retry);
                    continue;
                }
            }
            for o in &entry.origins {
                self.checkpoint.settle(o.window, 1, 0);
            }
        }
        if !retry.is_empty() {
            // The landed batch held these keys alone, and freed a sender.
            let bytes = retry.iter().map(|e| write_size(&e.write)).sum();
            let batch = Batch {
                target,
                entries: retry,
                bytes,
            };
            self.dispatch.send(batch);
        }
        if self.links.is_full() {
            self.send_links();
        }
        self.emit_earned();
    }

    /// A written entry asks for associations: held until they are made
    /// (settled at once, each reported, if HubSpot did not name it).
    fn associate(&mut self, entry: &Entry, id: Option<String>) {
        let windows = entry.origins.iter().map(|o| o.window).collect();
        let line = entry.origins.last().map_or(0, |o| o.line);
        let Some(id) = id else {
            let why = RejectReason::HubSpotValidation(
                "written, but HubSpot's answer did not name the record".into(),
            );
            for (link, value) in &entry.write.links {
                self.report(Problem {
                    line,
                    link: *link,
                    value: value.clone(),
                    reason: Some(why.clone()),
                });
            }
            return self.settle_windows(windows);
        };
        self.links.hold(&id, &entry.write.links, windows, line);
    }

    /// Completes the records a landed association job held, reports the
    /// associations it could not make, and emits the states earned.
    pub(super) fn settle_links(&mut self, sent: LinksSent) {
        self.dispatch.links_landed(&sent);
        let results = match sent.result {
            Ok(results) if results.len() == sent.job.items.len() => results,
            Ok(_) => {
                let e = "an association job came back with a result count unlike its items'";
                return self.fail(HubSpotError::new(FailureType::System, e));
            }
            Err(e) => return self.fail(e),
        };
        let (problems, complete) = self.links.landed(sent.job, results);
        for p in problems {
            self.report(p);
        }
        self.settle_windows(complete);
        if self.links.too_many_deferred() {
            for job in self.links.take_deferred() {
                self.send_link_job(job);
            }
        }
        self.emit_earned();
    }

    /// Hands the open association batch to a sender.
    pub(super) fn send_links(&mut self) {
        if let Some(job) = self.links.take() {
            self.send_link_job(job);
        }
    }

    /// Sends the associations still waiting for their targets one last
    /// time (every write of the sync has landed).
    pub(super) fn send_deferred(&mut self) {
        for job in self.links.take_deferred() {
            self.send_link_job(job);
        }
    }

    fn send_link_job(&mut self, job: super::links::LinkJob) {
        while !self.dispatch.can_send_links() {
            self.wait_landing();
            if self.stopping() {
                return; // its records stay unsettled: no state after them
            }
        }
        if !self.stopping() {
            self.dispatch.send_links(job);
        }
    }

    /// Records whose writes and associations are all done.
    fn settle_windows(&mut self, windows: Vec<u64>) {
        for w in windows {
            self.checkpoint.settle(w, 1, 0);
        }
    }

    /// Reports an association that could not be made (the record stays
    /// written).
    fn report(&mut self, p: Problem) {
        let link = &self.targets.links[p.link];
        let target = format!("{} `{}`", link.to_object.name, link.to_key);
        let out = self.out;
        self.rejects.association(
            p.line,
            &link.name,
            &target,
            &p.value,
            p.reason.as_ref(),
            out,
        );
    }

    /// A HubSpot failure: nothing more is sent and no state emitted.
    fn fail(&mut self, e: HubSpotError) {
        self.checkpoint.stop();
        self.failure.get_or_insert(e);
    }

    /// Emits the earned states, after the rejects they count are written.
    pub(super) fn emit_earned(&mut self) {
        let earned = self.checkpoint.earned();
        if earned.is_empty() {
            return;
        }
        if let Err(e) = self.rejects.flush() {
            self.checkpoint.stop();
            self.failure
                .get_or_insert(HubSpotError::new(FailureType::System, e));
            return;
        }
        if self.dry_run {
            return;
        }
        for e in earned {
            self.out.state(e.state, e.committed, e.rejected);
            self.states += 1;
        }
    }
}
