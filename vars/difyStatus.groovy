// difyStatus: what is deployed where, and drift from git (dify-ci status). Parameters: vars/difyStatus.txt.
def call(Map params = [:]) {
    return difyRun('status', params)
}
