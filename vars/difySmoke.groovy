// difySmoke: runs the smoke suites against one environment (dify-ci smoke) and publishes the JUnit report.
// A smoke failure fails the build, or marks it UNSTABLE with unstable: true. Parameters: vars/difySmoke.txt.
def call(Map params = [:]) {
    Map args = [:] + params
    boolean markUnstable = args.remove('unstable') == true
    Map result = null
    try {
        result = difyRun('smoke', args, [propagate: false])
    } finally {
        // Published whatever happens next; the verdict below is this step's, so junit never marks the build itself.
        String reports = result == null ? '' : difyRun.artifactPaths(result, 'junit')
        if (reports) {
            junit(testResults: reports, skipMarkingBuildUnstable: true, allowEmptyResults: true)
        }
    }
    if (result.exitCode == 1 && markUnstable) {
        unstable(result.message)
    } else if (result.exitCode != 0) {
        error(result.message)
    }
    return result
}
