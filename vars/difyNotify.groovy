// difyNotify: sends the run summary to Slack/email (dify-ci notify). Parameters: vars/difyNotify.txt.
def call(Map params = [:]) {
    return difyRun('notify', params)
}
