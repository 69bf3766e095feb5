// difyBackup: exports the apps of one environment (dify-ci backup). Parameters: vars/difyBackup.txt.
def call(Map params = [:]) {
    return difyRun('backup', params)
}
