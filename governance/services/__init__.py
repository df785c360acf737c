"""The use cases: one function per action. Each takes a ``UnitOfWork`` and the
acting person's id, checks permission, applies its rule, and writes its audit
event — all in one transaction."""
from governance.services.checkpoints import checkpoint_if_due, witness_checkpoint
from governance.services.claims import record_claim
from governance.services.decisions import close_due_vote, close_due_votes, close_vote
from governance.services.evaluation import (
    adopt_charter,
    close_survey_round,
    import_usage,
    open_survey_round,
    raise_feedback,
    respond_to_feedback,
    submit_survey_response,
)
from governance.services.links import answer_by_link, issue_survey_links, issue_vote_links, vote_by_link
from governance.services.paper import attest_paper_batch, enter_paper_sheet, print_paper_batch
from governance.services.people import (
    add_panel_member,
    create_panel,
    create_person,
    create_programme,
    deactivate_person,
    mark_demo,
    reactivate_person,
    remove_panel_member,
    set_password,
    set_roles,
)
from governance.services.people_import import import_people, preview_people_import
from governance.services.pilots import (
    add_metric,
    amend_metric,
    import_measurements,
    record_measurement,
    record_readiness,
    register_pilot,
    start_real_use,
    update_metric,
    waive_readiness,
)
from governance.services.problems import (
    add_criterion,
    comment_on_problem,
    draft_problem,
    remove_criterion,
    retire_problem,
    revise_problem,
    update_criterion,
)
from governance.services.setup import initialise_organisation
from governance.services.signin import (
    change_own_password,
    redeem_ticket,
    sign_in,
    sign_in_by_email,
    sign_out,
)
from governance.services.teams import (
    accept_team_invitation,
    add_team_member,
    add_to_roster,
    decline_team_invitation,
    remove_from_roster,
    remove_team_member,
)
from governance.services.votes import (
    cast_ballot,
    open_outcome_vote,
    propose_amendment,
    propose_criteria_lock,
    propose_ratification,
)

__all__ = [
    "attest_paper_batch", "enter_paper_sheet", "print_paper_batch",
    "answer_by_link", "issue_survey_links", "issue_vote_links", "vote_by_link",
    "accept_team_invitation", "add_criterion", "add_metric", "add_panel_member", "add_team_member",
    "add_to_roster", "adopt_charter", "amend_metric", "cast_ballot", "change_own_password", "checkpoint_if_due",
    "close_due_vote", "close_due_votes", "close_survey_round", "import_people", "preview_people_import",
    "reactivate_person", "redeem_ticket", "sign_out",
    "close_vote", "comment_on_problem", "create_panel", "create_person", "create_programme",
    "deactivate_person", "decline_team_invitation", "draft_problem", "import_measurements", "import_usage",
    "initialise_organisation", "mark_demo", "open_outcome_vote", "open_survey_round", "propose_amendment",
    "propose_criteria_lock", "propose_ratification", "raise_feedback", "record_claim",
    "record_measurement", "record_readiness", "register_pilot", "remove_criterion",
    "remove_from_roster", "remove_team_member", "remove_panel_member", "respond_to_feedback", "retire_problem",
    "revise_problem", "set_password", "set_roles", "sign_in", "sign_in_by_email", "start_real_use",
    "submit_survey_response", "update_criterion", "update_metric", "waive_readiness", "witness_checkpoint",
]
