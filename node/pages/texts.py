"""Every text the pages show a person, keyed by id: one catalogue per language.

English is the only catalogue so far. A translation is a second dict with the same keys in
``CATALOGUES`` (tests/pages/test_pages.py checks that every key the templates and the view code
use exists, so a translation can be checked the same way). Values are ``str.format`` patterns;
what is filled in is escaped by the templates like any other text.

What the node's library says about a check (``Check.message``, problem details) is shown as
well, as the technical detail under the page's own words; those messages are English.
"""

from __future__ import annotations

from typing import Any

DEFAULT_LANGUAGE = "en"

EN: dict[str, str] = {
    # --- frame ---------------------------------------------------------------------------
    "site.name": "vcnode",
    "nav.label": "Main",
    "nav.home": "Issuers",
    "nav.verify": "Verify a credential",
    "skip": "Skip to the main content",
    "footer": "This page is served by a vcnode trust node. Nothing you check here is stored.",
    # --- the verifier form ---------------------------------------------------------------
    "verify.title": "Verify a credential",
    "verify.intro": "Paste a credential or presentation (the JSON text), or a link to one published on the web "
    "(an address starting with https://), or choose or drop a .json file. The node checks its signature, its "
    "issuer's key, its validity period and its revocation status, and shows what it says.",
    "verify.document.label": "Credential or presentation (JSON), or a link to one",
    "verify.document.hint": "Paste the JSON text, or a link (https://…) to a credential published on the web; or choose a file below.",
    "verify.file.label": "Or choose a .json file",
    "verify.file.hint": "The file is read in your browser and sent to this node only when you press Verify. At most {limit}.",
    "verify.drop": "Drop a .json file here",
    "verify.options": "Presentation options",
    "verify.options.hint": "Only for a presentation: the challenge and domain you asked the holder to sign. "
    "A challenge this node handed out is recognised without them.",
    "verify.challenge.label": "Expected challenge",
    "verify.domain.label": "Expected domain",
    "verify.submit": "Verify",
    "verify.url.label": "Checked the credential published at",
    "verify.result": "Result",
    "verify.form": "Check a credential or presentation",
    "js.loaded": "Read {name} into the box above. Press Verify to check it.",
    "js.unreadable": "The file could not be read.",
    "js.too_large": "{{name}} is too large: as this form sends it (each line break counts twice) it is {{size}}, "
    "and this node accepts at most {limit}.",
    "js.box": "The text in the box",
    # --- input problems ------------------------------------------------------------------
    "input.empty": "Nothing to verify: paste a credential or presentation, or choose a file.",
    "input.too_large": "The file or text is too large: this node accepts at most {limit}.",
    "input.not_utf8": "The file is not text (UTF-8), so it cannot be a JSON credential.",
    "input.not_json": "This is not valid JSON: {detail}.",
    "input.duplicate_member": "Do not rely on this document: it gives the member {name} two values in one object{where}, "
    "so different programs can read different things from it. A credential from a genuine issuer never does this; "
    "ask the holder for the original file.",
    "input.duplicate_member.top": " (at the top level)",
    "input.duplicate_member.in": " (in {path})",
    "input.too_deep": "The JSON nests too deeply to be a credential.",
    "input.shape": "The JSON is too large or too complex to check: {detail}",
    "input.not_object": "This JSON is {kind}, not a credential or presentation (a JSON object).",
    "input.kind.array": "a list",
    "input.kind.string": "a string",
    "input.kind.number": "a number",
    "input.kind.boolean": "true or false",
    "input.kind.null": "null",
    "input.form": "The form could not be read: {detail}",
    "url.bad": "The address must be an http or https URL of at most {limit} characters.",
    "url.refused": "The node will not fetch {url}: {detail}",
    "url.failed": "The node could not fetch {url}: {detail}",
    "url.offline": "This node does not fetch from the web, so it cannot check a credential by its link. "
    "Paste the credential's JSON text or choose its file instead.",
    "input.problem": "Could not check this",
    "input.problem.suspect": "Do not rely on this document",
    # --- verdicts ------------------------------------------------------------------------
    "verdict.verified": "Verified",
    "verdict.not-verified": "Not verified",
    "verdict.revoked": "Revoked",
    "verdict.suspended": "Suspended",
    "verdict.status-unknown": "Could not check status",
    "verdict.verified.credential": "Every check passed: the credential is unchanged since its issuer signed it, "
    "the key that signed belongs to the issuer, it is within its validity period and it has not been revoked or suspended.",
    "verdict.verified.credential.no_status": "Every check passed: the credential is unchanged since its issuer signed "
    "it, the key that signed belongs to the issuer and it is within its validity period. It carries no revocation "
    "status, so whether its issuer has withdrawn it cannot be checked.",
    "verdict.verified.presentation": "Every check passed: the holder signed this presentation, and {each}.",
    "verdict.verified.presentation.key": "Every check passed: the key {signer} signed this presentation and {each}.",
    "verdict.verified.presentation.unbound": "Every check passed: the key {signer} signed this presentation, which names "
    "no holder, and {each}.",
    "vp.each.one": "its credential verifies",
    "vp.each.many": "each of its {count} credentials verifies",
    "vp.untied.no_id.one": "Nothing ties that key to the learner of credential {numbers}: it names its learner without "
    "an identifier (a DID) to compare the key with, so anyone holding a copy could have presented it.",
    "vp.untied.no_id.many": "Nothing ties that key to the learners of credentials {numbers}: they name their learners "
    "without an identifier (a DID) to compare the key with, so anyone holding a copy could have presented them.",
    "vp.untied.other.one": "Credential {numbers} names its learner by another identifier than the one that signed, so "
    "nothing shows that whoever signed is its learner.",
    "vp.untied.other.many": "Credentials {numbers} name their learners by other identifiers than the one that signed, "
    "so nothing shows that whoever signed is their learner.",
    "verdict.unrecognised": "Signature valid — issuer not recognised",
    "verdict.unrecognised.named": "The credential is unchanged since its issuer signed it, but nobody this node trusts "
    "vouches for that issuer: it is not one of this node's issuers nor accredited by a body this node trusts, and the "
    "name {name} is only what the issuer calls itself, which anyone can do.",
    "verdict.unrecognised.web": "The credential is unchanged since it was signed with a key of {domain}, but nobody "
    "this node trusts vouches for that issuer: it is not one of this node's issuers nor accredited by a body this node "
    "trusts, so whether {domain} is who it claims to be is for you to judge.",
    "verdict.unrecognised.key": "The credential is unchanged since it was signed, but nobody this node trusts vouches "
    "for its issuer: anyone can make a key like the one that signed it.",
    "verdict.unrecognised.presentation": "Nobody this node trusts vouches for the issuer of the credential numbered "
    "{numbers}: see its card.",
    "verdict.no-credentials": "No credential to check",
    "verdict.no-credentials.summary": "The presentation holds no credential, so there is nothing to verify: its "
    "signature only shows that whoever signed it holds the key {signer}.",
    "verdict.why": "Why",
    "verdict.detail": "Detail: {detail}",
    # Reasons, in words, for a check that failed or could not be carried out.
    "reason.failed.proof": "The signature (proof) does not verify: the document was changed after it was signed, "
    "or it was signed with another key.",
    "reason.failed.binding": "The key that signed is not one the issuer has authorised.",
    "reason.failed.binding.unresolved": "So it cannot be shown that the key that signed belongs to the issuer.",
    "reason.unknown.proof": "The signature (proof) could not be checked, most often because the issuer's key could "
    "not be fetched (for a did:web, from the issuer's domain); the detail says why.",
    "reason.failed.validity": "It is not valid at this time: it has expired or is not valid yet.",
    "reason.failed.dataModel": "The document is not a well-formed verifiable credential or presentation.",
    "reason.failed.bounds": "The document is too large or nested too deeply to be checked.",
    "reason.failed.challenge": "The presentation's challenge is missing, not the one expected, expired or already used.",
    "reason.failed.domain": "The presentation was made for another verifier (its domain does not match).",
    "reason.failed.proofPurpose": "The proof was made for another purpose than the one expected.",
    "reason.failed.stack": "The stacked credential does not hold together with the parts presented.",
    "reason.failed.other": "The {check} check failed.",
    "reason.revoked": "The issuer has revoked this credential.",
    "reason.suspended": "The issuer has suspended this credential: it is not valid while suspended. The issuer may "
    "lift the suspension; ask the issuer.",
    "reason.unknown.status": "Its revocation status could not be checked (the issuer's status list could not be "
    "fetched or verified), so it is not known whether it was revoked.",
    "reason.unknown.achievement": "Whether its issuer may award the achievement of this node it names could not be checked.",
    "reason.unknown.stack": "Whether the stacked credential holds together could not be established.",
    "reason.unknown.other": "The {check} check could not be carried out.",
    "reason.no_checks": "Nothing could be checked.",
    "reason.credential": "Credential {number} ({title}): {verdict}.",
    "reason.borrowed": "It names the achievement {achievement} that {issuer} defines on this node, but {issuer} "
    "did not issue it: another issuer signed it.",
    # --- reasons, verdicts, checks and cards told by cause (fix-pv: QA page sweep findings 1-7, 12-14) ---
    "reason.failed.proof.key_revoked": "The issuer has withdrawn (revoked) the key this was signed with, on {date}, "
    "so nothing signed with that key can be relied on any more. This does not show it was altered: ask the issuer.",
    "reason.failed.proof.key_expired": "The key this was signed with expired on {date}, so its signature is no longer "
    "accepted. This does not show it was altered: ask the issuer.",
    "reason.failed.proof.key_unusable": "The key named in the signature is not one its owner's DID document lets sign "
    "this (the detail says why), so the signature is not accepted.",
    "reason.failed.proof.appended": "Something was added to this credential after it was signed: a vocabulary "
    "(a JSON-LD context) that the signature does not cover, which could change what the signed data means. It is "
    "not accepted; ask the holder for the original file.",
    "reason.unknown.proof.context": "This node could not read this credential (it uses a vocabulary this node does not "
    "know), so its signature could not be checked. This does not show it was altered.",
    "reason.failed.proof.transformation": "This node could not bring the document into the form its signature covers "
    "(the detail says why), so its signature could not be checked: something in it is malformed or was added "
    "after it was signed.",
    "reason.failed.proof.none": "It carries no signature (proof), so nothing shows who issued it or that it is unchanged.",
    "reason.failed.proof.none.presentation": "The holder did not sign this presentation, so nothing shows that whoever "
    "sent it holds the credentials in it. Each credential is checked on its own below; to know that it is the "
    "holder's, ask the holder to present it from their wallet.",
    "reason.failed.binding.holder": "The key that signed is not the holder's.",
    "reason.failed.validity.expired": "It expired on {date}: it is valid only until then.",
    "reason.failed.validity.not_yet": "It is not valid yet: it is valid only from {date}.",
    "reason.failed.challenge.none": "No challenge was given to check this presentation against, so nothing shows it was "
    "made for you now rather than copied from an earlier one. Type the challenge you asked the holder to sign in "
    "Expected challenge, under Presentation options.",
    "reason.failed.challenge.used": "This presentation was made for a challenge of this node that has expired or was "
    "already used: it was checked once already, or is too old. Ask the holder to present it again.",
    "reason.failed.challenge.typed_unusable": "The challenge typed in Expected challenge was not handed out by this "
    "node, has expired, or was already used (this presentation may have been checked once already).",
    "reason.failed.challenge.not_ours": "The challenge typed in Expected challenge was not handed out by this node, "
    "and this node accepts only its own.",
    "reason.failed.challenge.unsigned": "The holder did not sign the challenge typed in Expected challenge: the "
    "presentation carries none.",
    "reason.failed.challenge.other": "The presentation was signed for another challenge than the one typed in "
    "Expected challenge.",
    "detail.unknown_context": "the JSON-LD context {url} is not one this node knows",
    "detail.challenge_field": "Expected challenge",
    "verdict.verified.credential.skew": "Every check passed: the credential is unchanged since its issuer signed it, "
    "the key that signed belongs to the issuer and it has not been revoked or suspended. Its validity period is "
    "just over or not yet begun (see Valid from and Valid until): it is accepted only because clocks may differ by "
    "up to {minutes} minutes.",
    "verdict.verified.credential.no_status.skew": "Every check passed: the credential is unchanged since its issuer "
    "signed it and the key that signed belongs to the issuer. Its validity period is just over or not yet begun "
    "(see Valid from and Valid until): it is accepted only because clocks may differ by up to {minutes} minutes. "
    "It carries no revocation status, so whether its issuer has withdrawn it cannot be checked.",
    "verdict.expired": "Expired",
    "verdict.not-yet-valid": "Not valid yet",
    "check.status.revocation": "Revocation status",
    "check.status.suspension": "Suspension status",
    "card.unreliable": "What follows is what the document says. Its signature did not verify or could not be "
    "checked, so none of it can be relied on.",
    "card.unreliable.signed": "What follows is what the document says and its issuer signed, but it did not pass "
    "every check (see why above), so do not rely on it.",
    "card.period": "Validity period",
    "card.number": "Credential {number} of {count}",
    "reason.credential.why": "Credential {number} ({title}{learner}): {verdict}. {why}",
    "reason.credential.learner": ", {name}",
    # --- the checks list -----------------------------------------------------------------
    "checks.title": "Checks",
    "checks.presentation": "Checks of the presentation",
    "checks.check": "Check",
    "checks.outcome": "Outcome",
    "checks.detail": "Detail",
    "check.bounds": "Size and shape",
    "check.dataModel": "Data model",
    "check.validity": "Validity period",
    "check.proof": "Signature (proof)",
    "check.binding": "Key belongs to the signer",
    "check.status": "Revocation and suspension status",
    "check.challenge": "Challenge",
    "check.domain": "Domain",
    "check.proofPurpose": "Proof purpose",
    "check.stack": "Stack of micro-credentials",
    "check.achievement": "Awarded by the issuer defining the achievement",
    "check.other": "{check}",
    "outcome.passed": "Passed",
    "outcome.failed": "Failed",
    "outcome.unknown": "Could not check",
    "outcome.skipped": "Skipped",
    # --- credential cards ----------------------------------------------------------------
    "card.credential": "Credential {number}",
    "card.untitled": "Untitled credential",
    "card.kind.micro": "EU micro-credential",
    "card.kind.stack": "Stacked credential",
    "card.kind.badge": "Open Badge",
    "card.kind.credential": "Verifiable credential",
    "card.kind.accreditation": "Accreditation",
    "card.awarded_by.web": "Awarded by {name} ({domain})",
    "card.awarded_by.stated": "Awarded by {name} (name stated by the issuer, not checked)",
    "card.direction_controls": "Its text contains direction-control characters, shown here as [U+202E] and the like: "
    "they can make text read in another order than it was written, so read the marked text with care.",
    "card.elements": "Mandatory elements (EU Council Recommendation 2022/C 243/02, Annex I)",
    "card.complete": "All eleven mandatory elements are present.",
    "card.missing": "Missing or malformed Annex I elements: {elements}",
    "card.optional": "Optional elements",
    "card.not_micro": "This credential does not claim to be an EU micro-credential.",
    "card.facts": "What it says",
    "card.id": "Credential id",
    "card.type": "Type",
    "card.subject": "About",
    "card.valid_from": "Valid from",
    "card.valid_until": "Valid until",
    "card.description": "Description",
    "card.issuer": "Issuer and signature",
    "card.issuer_did": "Issuer (DID)",
    "card.signed_by": "Key that signed",
    "card.suite": "Signature suite",
    "card.no_signer": "No signature could be read.",
    "card.unreadable": "The document could not be read as a credential.",
    "element.status.missing": "Missing",
    "element.status.malformed": "Malformed",
    "element.a": "(a) Learner",
    "element.b": "(b) Title",
    "element.c": "(c) Country or region of the awarding body",
    "element.d": "(d) Awarding body",
    "element.e": "(e) Date of issue",
    "element.f": "(f) Learning outcomes",
    "element.g": "(g) Notional workload",
    "element.h": "(h) EQF level",
    "element.i": "(i) Type of assessment",
    "element.j": "(j) Form of participation",
    "element.k": "(k) Quality assurance",
    "optional.prerequisites": "Prerequisites",
    "optional.grade": "Grade",
    "optional.supervision": "Supervision and identity verification",
    "optional.integration": "Integration and stackability",
    "value.also_identified": "Also identified by: {kinds}",
    "value.identity.hashed": "{kind} (hashed)",
    "value.identity.emailAddress": "e-mail address",
    "value.did": "DID: {did}",
    "value.ects": "{ects} ECTS credits",
    "value.eqf": "EQF level {level}",
    "value.framework": "({framework})",
    "value.link": "link",
    "value.grade_in": "{grade} in {assessment}",
    "value.integration": "{mode}: {description}",
    "participation.online": "Online",
    "participation.on-site": "On site",
    "participation.blended": "Blended (online and on site)",
    "date": "{day} {month} {year}, {time} UTC",
    "month.1": "January", "month.2": "February", "month.3": "March", "month.4": "April",
    "month.5": "May", "month.6": "June", "month.7": "July", "month.8": "August",
    "month.9": "September", "month.10": "October", "month.11": "November", "month.12": "December",
    # --- accreditation -------------------------------------------------------------------
    "acc.title": "Accreditation of the issuer",
    "acc.accredited": "Accredited",
    "acc.not-accredited": "Not accredited",
    "acc.unknown": "Accreditation could not be checked",
    "acc.not-assessed": "Accreditation not assessed",
    "acc.not-assessed.why": "This node trusts no accreditation body, so it did not assess the issuer's accreditation.",
    "acc.by": "Accredited by {body}, a body this node trusts.",
    "acc.self": "The issuer is itself an accreditation body this node trusts.",
    "acc.chain": "Accreditation chain, from the trusted body down to the issuer",
    "acc.link": "{by} accredits {organisation}",
    "acc.kind.attest": "to issue credentials",
    "acc.kind.accredit": "to accredit others",
    "acc.scope": "Scope",
    "acc.scope.unlimited": "unlimited",
    "acc.scope.eqfLevels": "EQF levels {values}",
    "acc.scope.fields": "fields of study (ISCED-F) {values}",
    "acc.scope.jurisdictions": "jurisdictions {values}",
    "acc.scope.qualifications": "qualifications",
    "acc.until": "Valid until {date}",
    "acc.from": "Valid from {date}",
    "acc.expiry": "Expires {date}",
    "acc.review": "Review due {date}",
    "acc.decision": "Decision",
    "acc.period": "Period",
    "acc.status": "Status",
    "acc.credential": "Accreditation credential",
    "acc.not_revoked": "Not revoked",
    "acc.failed_links": "Why not",
    "acc.link.failed": "Failed",
    "acc.link.unknown": "Could not check",
    # --- stacks --------------------------------------------------------------------------
    "stack.title": "Parts of this stacked credential",
    "stack.part": "Part",
    "stack.ects": "ECTS",
    "stack.eqf": "EQF level",
    "stack.verdict": "Verdict",
    "stack.by_level": "ECTS per EQF level",
    "stack.level": "EQF level {level}",
    "stack.level.unspecified": "No EQF level",
    "stack.total": "Total",
    "stack.stated": "The stacked credential states {ects} ECTS.",
    "stack.holds": "All parts are present, intact and verified; they add up to the stated total.",
    "stack.problems": "Problems",
    "stack.part.missing": "Missing: not in this presentation",
    "stack.part.tampered": "Altered: it does not match the digest the stack recorded",
    "stack.part.not_counted": "Not counted (the same achievement appears twice)",
    "stack.part.not_checked": "Not presented here",
    "stack.alone": "The parts are checked when the stacked credential is presented together with them "
    "(a verifiable presentation holding the stacked credential and every part).",
    # --- presentations -------------------------------------------------------------------
    "vp.title": "Presentation",
    "vp.holder": "Holder",
    "vp.no_holder": "The presentation names no holder.",
    "vp.credentials": "Credentials in this presentation ({count})",
    "vp.none": "The presentation holds no credentials.",
    # --- issuer pages --------------------------------------------------------------------
    "home.title": "Issuers on this node",
    "home.intro": "These issuers sign credentials with the keys of the DIDs below. Anyone holding one of their "
    "credentials can check it on the verifier page.",
    "home.none": "This node has no issuers yet.",
    "home.dids": "DIDs",
    "home.achievements": "Micro-credentials this issuer awards",
    "home.no_achievements": "No micro-credential defined yet.",
    "home.verify": "Verify a credential",
    "ach.title": "{title}",
    "ach.kind": "EU micro-credential offered by {body}",
    "ach.id": "Achievement URL (credentials that award it name it as their achievement)",
    "ach.json": "Programs receive this description as JSON at the same address (Accept: application/json).",
    "ach.elements": "What a credential for this achievement states",
    "ach.description": "Description",
    "ach.criteria": "How it is earned",
    "ach.assessment.values": "Possible results: {values}",
    "ach.assessment.required": "Result required to pass: {value}",
    "ach.qa": "Quality assurance",
    "ach.more": "More",
    "ach.language": "Language",
    "ach.code": "Code",
    "ach.field": "Field of study",
    "ach.tags": "Keywords",
    "ach.issuer": "Issuer",
    "ach.learner_note": "The learner and the date of issue are stated in each credential, not here.",
    "notfound.title": "Not found",
    "notfound.achievement": "Issuer {issuer} has no achievement {slug} on this node.",
    "notfound.issuer": "This node has no issuer named {issuer}.",
}

CATALOGUES: dict[str, dict[str, str]] = {"en": EN}


class Texts:
    """``texts("verdict.revoked")`` → the text in this catalogue's language; parameters fill the pattern."""

    def __init__(self, language: str = DEFAULT_LANGUAGE) -> None:
        self.language = language if language in CATALOGUES else DEFAULT_LANGUAGE
        self._catalogue = CATALOGUES[self.language]

    def __call__(self, key: str, **params: Any) -> str:
        pattern = self._catalogue[key]
        return pattern.format(**params) if params else pattern

    def has(self, key: str) -> bool:
        return key in self._catalogue


__all__ = ["CATALOGUES", "DEFAULT_LANGUAGE", "EN", "Texts"]
