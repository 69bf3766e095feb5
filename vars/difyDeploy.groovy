// difyDeploy: deploys the apps to one environment (dify-ci deploy). Parameters: vars/difyDeploy.txt.
def call(Map params = [:]) {
    return difyRun('deploy', params)
}
