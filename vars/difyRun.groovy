import groovy.json.JsonOutput
import groovy.json.JsonSlurperClassic

// The one executor behind every dify* step (internal). Groovy only moves values around: the runner decides
// everything, and values reach the shell through environment variables and a JSON file, never the script text.
//
//   difyRun(command, params = [:], options = [:])  ->  the result file as a map, plus exitCode and message
//   options.okExitCodes: exit codes that are not failures (default [0]; difyPlan adds 3 for "changes")
//   options.propagate:   false = return the failure instead of calling error() (difySmoke decides itself)
def call(String command, Map params = [:], Map options = [:]) {
    String tmp = tmpDir()
    String runner = materialise(tmp)
    List creds = contextIn(tmp, runner, command, params.env, params.config).credentials ?: []
    List bindings = []
    for (int i = 0; i < creds.size(); i++) {
        Map c = creds[i]
        if (c.type == 'usernamePassword') {
            bindings << usernamePassword(credentialsId: c.credentialsId, usernameVariable: c.variables[0], passwordVariable: c.variables[1])
        } else if (c.type == 'file') {
            bindings << file(credentialsId: c.credentialsId, variable: c.variables[0])
        } else {
            bindings << string(credentialsId: c.credentialsId, variable: c.variables[0])
        }
    }
    String wave = params.wave ? "wave${params.wave}" : null // each wave's deploy keeps its own result file (rollback reads them all)
    String resultFile = ".dify-ci/results/${safeName([command, params.env, wave, params.shard])}.json"
    Map result = null
    withCredentials(bindings) {
        result = exec(tmp, runner, command, params, resultFile, "dify-ci ${command}${params.env ? ' ' + params.env : ''}")
    }
    String archive = artifactPaths(result, null)
    if (archive) {
        archiveArtifacts(artifacts: archive, allowEmptyArchive: true)
    }
    List ok = options.okExitCodes ?: [0]
    if (!ok.contains(result.exitCode) && options.propagate != false) {
        error(result.message)
    }
    return result
}

// `dify-ci context`: the credentials to bind and what the pipeline decides on. Returns the result's `data`.
// extra: further context parameters (difyPipeline: overrides, branch, tag, buildNumber - the runner resolves them).
Map context(String step, String envName = null, String config = null, Map extra = [:]) {
    String tmp = tmpDir()
    return contextIn(tmp, materialise(tmp), step, envName, config, extra)
}

Map contextIn(String tmp, String runner, String step, String envName, String config, Map extra = [:]) {
    Map params = [step: step, env: envName, config: config] + (extra ?: [:])
    Map result = exec(tmp, runner, 'context', params, null, "dify-ci context ${step}${envName ? ' ' + envName : ''}")
    if (result.exitCode != 0) {
        error(result.message)
    }
    return result.data
}

// Comma-separated workspace-relative paths of the result's artifacts (of one kind, or all), for archiveArtifacts/junit.
String artifactPaths(Map result, String kind) {
    List paths = []
    List artifacts = result?.artifacts ?: []
    for (int i = 0; i < artifacts.size(); i++) {
        String p = (artifacts[i].path as String).replace('\\', '/')
        // archiveArtifacts only sees the workspace: skip absolute paths, "./" prefixes match nothing.
        if ((kind == null || artifacts[i].kind == kind) && !p.startsWith('/') && !(p ==~ /^[A-Za-z]:.*/) && !p.startsWith('..')) {
            paths << (p.startsWith('./') ? p.substring(2) : p)
        }
    }
    return paths.join(',')
}

// One runner invocation: params by file, names by environment variables, a constant script, the result by file
// (in the workspace, or in the temp dir when resultFile is null).
Map exec(String tmp, String runner, String command, Map params, String workspaceResult, String label) {
    String id = callId()
    String paramsFile = "${tmp}/params-${id}.json"
    String resultFile = workspaceResult ?: "${tmp}/${command}-${id}.json"
    writeFile(file: paramsFile, text: JsonOutput.toJson(params), encoding: 'UTF-8')
    writeFile(file: resultFile, text: '', encoding: 'UTF-8') // a stale result must not pass for this run's
    boolean unix = isUnix()
    String script = unix ? 'node "$DIFY_CI_RUNNER" "$DIFY_CI_COMMAND" --result-file "$DIFY_CI_RESULT_FILE"' : '@node "%DIFY_CI_RUNNER%" "%DIFY_CI_COMMAND%" --result-file "%DIFY_CI_RESULT_FILE%"'
    if (command == 'context') {
        script += unix ? ' >/dev/null' : ' >NUL' // its JSON is for us (the result file), not for the build log
    }
    int status = 0
    withEnv(["DIFY_CI_RUNNER=${runner}", "DIFY_CI_COMMAND=${command}", "DIFY_CI_PARAMS_FILE=${paramsFile}", "DIFY_CI_RESULT_FILE=${resultFile}"]) {
        status = unix ? sh(label: label, script: script, returnStatus: true) : bat(label: label, script: script, returnStatus: true)
    }
    String text = readFile(file: resultFile, encoding: 'UTF-8')
    Map result = text.trim() ? new JsonSlurperClassic().parseText(text) : [command: command, status: 'error', artifacts: [], data: null, error: null]
    result.exitCode = status
    if (result.error?.message) {
        result.message = "dify-ci ${command}: ${result.error.message} [${result.error.category}]".toString()
    } else if (text.trim()) {
        result.message = "dify-ci ${command}: ${result.summary} [${status == 1 ? 'operation' : 'exit ' + status}]".toString()
    } else {
        result.message = "dify-ci ${command}: the runner exited with ${status} and wrote no result file (see the log above)".toString()
    }
    return result
}

// Writes the bundled runner once per workspace, named after its content so a library update is picked up.
String materialise(String tmp) {
    String path = "${tmp}/runner-${digest(libraryResource('dify-ci/runner.cjs'))}.cjs"
    if (!fileExists(path)) {
        String script = 'node -e "var v=process.versions.node; if (+v.split(\'.\')[0] < 20) { console.error(\'dify-ci needs Node.js >= 20, this agent has \' + v); process.exit(3) }"'
        int status = isUnix() ? sh(label: 'dify-ci: node --version', script: script, returnStatus: true) : bat(label: 'dify-ci: node --version', script: '@' + script, returnStatus: true)
        if (status != 0) {
            error("dify-ci needs Node.js >= 20 on the agent (the check exited ${status}): install it, or name a NodeJS tool in pipeline.nodejsTool of dify-ci.yml")
        }
        writeFile(file: path, text: libraryResource('dify-ci/runner.cjs'), encoding: 'UTF-8')
    }
    return path
}

String digest(String text) {
    return "${text.length()}-${Integer.toHexString(text.hashCode())}"
}

String tmpDir() {
    return "${pwd(tmp: true)}/dify-ci"
}

// Unique within a build (CPS runs one branch at a time, so parallel branches get distinct ids); reused by the next
// build in the same workspace, which keeps the temp dir bounded (exec blanks the result file before each run).
String callId() {
    int n = ((env.DIFY_CI_CALLS ?: '0') as int) + 1
    env.DIFY_CI_CALLS = "${n}"
    return "${n}"
}

String safeName(List parts) {
    List kept = []
    for (int i = 0; i < parts.size(); i++) {
        if (parts[i]) {
            kept << (parts[i] as String).replaceAll('[^A-Za-z0-9._-]', '_')
        }
    }
    return kept.join('-')
}
