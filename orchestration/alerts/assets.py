"""The alert evaluation as an asset: the rules judged against the published marts and the live
state, the lifecycle moved, what is due sent."""

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from alerts.service import evaluate_home, open_alerts
from orchestration.keys import ALERT_EVALUATION, PUBLISHED
from orchestration.resources import SiteledgerHome


@asset(
    key=ALERT_EVALUATION,
    deps=[PUBLISHED],
    group_name="alerts",
    owners=["team:data-engineering"],
    kinds={"python"},
)
def alert_evaluation(
    context: AssetExecutionContext, siteledger: SiteledgerHome
) -> MaterializeResult:
    """Every alert rule (shipped packs, site files, $SITELEDGER_HOME/alerts) judged on the rows
    published since its last evaluation and on the live device and report state; alerts opened,
    escalated or resolved; one digest per channel sent."""
    store = siteledger.state_store()
    evaluation, ruleset = evaluate_home(siteledger.settings(), store)
    for problem in ruleset.problems:
        context.log.warning(str(problem))
    summary = evaluation.summary()
    return MaterializeResult(
        metadata={
            "rules": evaluation.rules,
            "observations": evaluation.observations,
            "transitions": MetadataValue.json(summary["transitions"]),
            "notifications": evaluation.notifications,
            "failed_notifications": evaluation.failed_notifications,
            "rule_errors": MetadataValue.json(summary["errors"]),
            "rule_file_problems": MetadataValue.json([str(p) for p in ruleset.problems]),
            "seconds": MetadataValue.json(summary["seconds"]),
            "open_alerts": MetadataValue.json(open_alerts(store)),
        }
    )
