// difyPlan: what a deploy would change (dify-ci plan). Parameters: vars/difyPlan.txt.
// With detailedExitcode: true, exit 3 ("changes present") is a result, not a failure: check result.exitCode.
def call(Map params = [:]) {
    return difyRun('plan', params, [okExitCodes: params.detailedExitcode ? [0, 3] : [0]])
}
