// Package exchange is the neutral verifier's private service for an
// "all for all" prisoner exchange (issue 8): it keeps the parties' lists in
// clear only inside its own encrypted database, reconciles them, and drafts
// the public log bodies that carry nothing but counts and keyed
// commitments.
//
// # Roles
//
//   - The verifier (an ICRC-like role) sees both sides' clear data: every
//     record ([Service.Records]), every reconciliation with its evidence
//     ([Service.Reconciliation]), and decides what the engine could not
//     ([Service.Decide]).
//   - A party sees its own lists and, for each of its records, only the
//     state of the reconciliation (matched, ambiguous, unclaimed, missing)
//     and its batch ([Service.PartyView]); never a field of the other
//     side's records, their ids or the scores.
//   - The public sees the log: counts, statuses counted, and commitments
//     (entry.ExchangeList, entry.ExchangeManifest). A family given an
//     opening ([Service.Opening]) can check that its relative is in a
//     published batch, and learns nothing about anyone else.
//
// The service does not authorise: its caller (the HTTP layer) decides who
// may call which method. It does not sign either: the parties and the
// verifier sign the bodies it drafts.
//
// # Data flow
//
//  1. A party submits a list ([Service.Upload]): the people it holds, or the
//     people it says the other side holds. Every record is validated, given
//     an opaque record id, sealed with the vault (package exchange/vault,
//     associated data binding list and record id) and committed to
//     (package exchange/commit, names normalised by names.Key). The service
//     returns the entry.ExchangeList parts; the party signs and logs them,
//     and the log's intake checks each against [Service.CheckList].
//  2. The verifier reconciles the latest held list of one side with the
//     latest claimed list of the other ([Service.Reconcile], package
//     exchange/reconcile), and settles the doubtful entries
//     ([Service.Decide]); decisions survive later reconciliations. Each
//     matched pair becomes a person with a person-level commitment, whose
//     names are the claimed record's: the family's spelling.
//  3. The verifier drafts a batch ([Service.DraftManifest]): the
//     entry.ExchangeManifest parts, co-signed by both parties and the
//     verifier and logged (the intake checks each against
//     [Service.CheckManifest]); then gives each family its opening
//     ([Service.Opening]), which it checks with commit.Check.
//
// # Storage
//
// The service keeps one SQLite database of its own (mode 0600, WAL,
// secure_delete), with embedded numbered migrations. Identity data is
// stored only sealed: the records, the reconciliations (their evidence
// quotes birth dates) and the decisions' notes. In clear it holds ids,
// counts, commitments and times. Record ids are
// "r" + 24 hex digits of an HMAC under the verifier's commitment key of
// (exchange, side, list kind, the party's ref), so a record keeps its id
// from one version of a list to the next (and decisions and batches follow
// it) while the id reveals nothing without the key. Person ids are the
// held record's id with "p" for "r".
//
// Errors never quote an identity field: they name the field by its JSON
// pointer, or the record by its id.
//
// The Service is safe for concurrent use; it runs on one database
// connection, so calls are serialised.
package exchange
