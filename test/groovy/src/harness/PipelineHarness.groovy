package harness

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

/**
 * A step-mocking harness for vars/: loads the compiled var scripts, answers every Jenkins step they call with a
 * closure in the script binding, and records each call in order with the blocks it ran inside (node, lock, stage…).
 * The `sh`/`bat` mock plays the runner: it reads the params file and the DIFY_CI_* variables exactly as the real
 * runner would, then writes a result file, so the vars are exercised through the same contract as on Jenkins.
 */
class PipelineHarness {
    static final String UNIX_RUN = 'node "$DIFY_CI_RUNNER" "$DIFY_CI_COMMAND" --result-file "$DIFY_CI_RESULT_FILE"'
    static final String WIN_RUN = '@node "%DIFY_CI_RUNNER%" "%DIFY_CI_COMMAND%" --result-file "%DIFY_CI_RESULT_FILE%"'
    static final String NODE_CHECK = 'node -e "var v=process.versions.node; if (+v.split(\'.\')[0] < 20) { console.error(\'dify-ci needs Node.js >= 20, this agent has \' + v); process.exit(3) }"'
    static final String UNIX_CONTEXT = UNIX_RUN + ' >/dev/null'
    static final String WIN_CONTEXT = WIN_RUN + ' >NUL'
    static final List<String> CONSTANT_SCRIPTS = [UNIX_RUN, WIN_RUN, UNIX_CONTEXT, WIN_CONTEXT, NODE_CHECK, '@' + NODE_CHECK]
    static final String RUNNER_TEXT = '#!/usr/bin/env node\n/* fake dify-ci runner */\n'

    /** Every step call: [name, args (List), stack (enclosing blocks, outermost first)]. */
    final List<Map> calls = []
    /** Every runner invocation seen by sh/bat: [command, params, resultFile, env, stack]. */
    final List<Map> runs = []
    /** The agent file system (absolute path -> text). */
    final Map<String, String> files = [:]
    final FakeEnv env = new FakeEnv()
    final Map params = [:]
    final FakeBuild currentBuild = new FakeBuild()
    final Map scm = [userRemoteConfigs: [[url: 'https://git.example.com/acme/bots.git', credentialsId: 'git']]]
    final List<String> stack = []

    boolean unix = true
    String workspace = '/ws'
    /** Exit status of the `node >= 20` check. */
    int nodeCheckStatus = 0
    /** What `input` returns (the submitterParameter value); a closure may throw to simulate reject/timeout. */
    Object inputAnswer = 'alice'
    /** (step, env) -> the `data` of `dify-ci context`. */
    Closure contextFor = { String step, String envName -> PipelineHarness.defaultContext(step, envName) }
    /** (Map run) -> [exitCode: int, result: Map|null]; null result = the runner wrote nothing. */
    Closure runner = { Map run -> [exitCode: 0, result: PipelineHarness.okResult(run.command)] }
    /** When set, answers `context` runs instead of contextFor (to make `context` itself fail). */
    Closure contextRunner = null
    /** Real mode: the workspace is this directory on disk and sh runs the script with bash (RealRunnerTest). */
    File disk = null
    /** What libraryResource('dify-ci/runner.cjs') returns. */
    String runnerText = RUNNER_TEXT
    /** Output of every real shell run. */
    final StringBuilder shellLog = new StringBuilder()
    /** When set, the k-th node block runs in nodeWorkspaces[k % size] (agents with their own files); else in `workspace`. */
    List<String> nodeWorkspaces = null
    /** Saved stashes: name -> (workspace-relative path -> text). In-memory mode only. */
    final Map<String, Map<String, String>> stashes = [:]
    /** Stash names whose stash step is recorded but saves nothing (as if it never completed): unstash then fails. */
    final Set<String> lostStashes = [] as Set
    private int nodeCount = 0
    private final List<String> dirs = []

    private final Binding binding = new Binding()
    private final Map<String, Script> vars = [:]
    private final List<Map> envStack = []

    PipelineHarness(List<String> varNames) {
        binding.setVariable('env', env)
        binding.setVariable('params', params)
        binding.setVariable('currentBuild', currentBuild)
        binding.setVariable('scm', scm)
        env.BUILD_NUMBER = '7'
        env.JOB_NAME = 'acme/bots'
        installSteps()
        for (String name : varNames) {
            Script s = (Script) varClass(name).newInstance()
            s.binding = binding
            vars[name] = s
            binding.setVariable(name, s)
        }
    }

    private static final Map<String, Class> VAR_CLASSES = [:]

    /**
     * Each var is compiled from its source by its own class loader, as Jenkins does: vars never see each other as
     * classes, so `difyRun.context(...)` in another var resolves through the global variable, not statically.
     */
    static synchronized Class varClass(String name) {
        if (!VAR_CLASSES.containsKey(name)) {
            GroovyClassLoader loader = new GroovyClassLoader(PipelineHarness.classLoader)
            VAR_CLASSES[name] = loader.parseClass(Vars.source(name), "${name}.groovy".toString())
        }
        return VAR_CLASSES[name]
    }

    /** Calls a var the way a Jenkinsfile does: `difyDeploy(env: 'staging')`. */
    Object call(String varName, Object... args) {
        return vars[varName].invokeMethod('call', args)
    }

    // ---- queries used by the tests --------------------------------------------------------------------------

    List<Map> named(String name) {
        return calls.findAll { it.name == name }
    }

    List<String> names() {
        return calls.collect { it.name }
    }

    /** Runner invocations other than `context`. */
    List<Map> commands() {
        return runs.findAll { it.command != 'context' }
    }

    List<String> stages() {
        return named('stage').collect { it.args[0] as String }
    }

    Map paramsOf(Map run) {
        return run.params
    }

    // ---- canned runner answers -----------------------------------------------------------------------------

    static Map okResult(String command, Map extra = [:]) {
        return [command: command, status: 'success', summary: "${command} ok".toString(), counts: [:], artifacts: [], error: null, data: [:]] + extra
    }

    static Map failResult(String command, String message, String category, int exitCode) {
        return [command: command, status: 'error', summary: message, counts: [:], artifacts: [],
                error: [message: message, category: category, exitCode: exitCode], data: null]
    }

    static Map defaultContext(String step, String envName) {
        Map creds = [
            validate: [],
            notify  : [[type: 'string', credentialsId: 'slack-bot', variables: ['SLACK_TOKEN'], purpose: 'Slack bot token']],
        ]
        List bindings = creds.containsKey(step) ? creds[step] : [
            [type: 'usernamePassword', credentialsId: "dify-${envName ?: 'all'}".toString(), variables: ['DIFY_EMAIL', 'DIFY_PASSWORD'], purpose: 'Dify login'],
            [type: 'string', credentialsId: 'openai', variables: ['OPENAI_KEY'], purpose: 'DSL secret'],
            [type: 'file', credentialsId: 'ca-bundle', variables: ['DIFY_CA_FILE'], purpose: 'CA bundle'],
        ]
        Map details = [
            staging   : [approvalRequired: false, submitter: null, message: 'Deploy to staging?', timeoutMinutes: 60, protected: false, hasSmoke: true, waves: 0],
            production: [approvalRequired: true, submitter: 'release-managers,bob', message: 'Deploy to production?', timeoutMinutes: 30, protected: true, hasSmoke: true, waves: 0],
        ]
        return [step: step, env: envName, credentials: bindings, approval: envName ? details[envName] : null,
                protected: envName == 'production', environments: ['staging', 'production'], apps: ['support-bot', 'triage'],
                pipeline: [environments: ['staging', 'production'], approvalPolicy: 'always', everyNth: 1, mainBranch: 'main',
                           nodejsTool: null, agentLabel: null, shards: 1, smokeUnstable: false],
                environmentDetails: details]
    }

    /**
     * What the real runner does with the context parameters (runner/src/config/context.ts; RealRunnerTest checks
     * the real one): `overrides` (difyPipeline's options) checked and laid over `pipeline` (the file's settings, as
     * contextFor returns them), and for `pipeline` each environment's gate from branch, tag and buildNumber.
     */
    static Map resolveContext(Map data, Map params) {
        Map p = [:] + (data.pipeline ?: [:])
        Map overrides = params.overrides ?: [:]
        List known = data.environments ?: []
        Closure fail = { String message -> [exitCode: 2, result: failResult('context', "difyPipeline: ${message}".toString(), 'usage', 2)] }
        for (Map.Entry o : overrides.entrySet()) {
            def v = o.value
            String shown = v instanceof CharSequence ? "'${v}'" : "${v}"
            if (o.key == 'environments') {
                if (!(v instanceof List)) {
                    return fail("environments must be a list of environment keys, e.g. ['staging', 'production'] (got ${v})")
                }
                def unknown = v.find { !known.contains(it) }
                if (unknown != null) {
                    return fail("environments: no environment '${unknown}' in dify-ci.yml (known: ${known.join(', ')})")
                }
            } else if (o.key == 'everyNth' && !(v instanceof Integer && v >= 1)) {
                return fail("everyNth must be a whole number \u2265 1 (got ${shown})")
            } else if (o.key == 'approvalPolicy' && !(v in ['always', 'never', 'main-branch', 'tags', 'every-nth'])) {
                return fail("approvalPolicy must be one of always, never, main-branch, tags, every-nth (got ${shown})")
            } else if (!(o.key in ['environments', 'everyNth', 'approvalPolicy', 'agentLabel', 'nodejsTool', 'mainBranch', 'shards', 'smokeUnstable'])) {
                return fail("unknown option '${o.key}'")
            }
            p[o.key] = v
        }
        Map out = [:] + data
        out.pipeline = p
        if (params.step == 'pipeline' && data.environmentDetails != null) {
            Map details = [:]
            data.environmentDetails.each { String e, Map d -> details[e] = d + [gate: gate(p, d, params)] }
            out.environmentDetails = details
        }
        return [exitCode: 0, result: okResult('context', [data: out])]
    }

    private static String gate(Map p, Map d, Map facts) {
        if (!d.approvalRequired && !d.protected) {
            return 'go'
        }
        switch (p.approvalPolicy) {
            case 'never': return d.protected ? 'ask' : 'go'
            case 'always': return 'ask'
            case 'main-branch': return facts.branch != null && facts.branch == p.mainBranch ? 'ask' : 'stop'
            case 'tags': return facts.tag ? 'ask' : 'stop'
            case 'every-nth': return (facts.buildNumber as int) % (p.everyNth as int) == 0 ? 'ask' : 'stop'
        }
        throw new IllegalStateException("unknown approval policy '${p.approvalPolicy}'")
    }

    /** The fake secret value withCredentials binds for a credentials id (tests assert it never reaches a script). */
    static String secretOf(String credentialsId, String variable) {
        return "s3cr3t-${credentialsId}-${variable}".toString()
    }

    // ---- the steps -----------------------------------------------------------------------------------------

    private void record(String name, List args) {
        calls << [name: name, args: plain(args), stack: new ArrayList(stack)]
    }

    /** Jenkins coerces GString step arguments to String; so does the record. */
    static Object plain(Object o) {
        if (o instanceof GString) {
            return o.toString()
        }
        if (o instanceof Map) {
            Map out = [:]
            o.each { k, v -> out[plain(k)] = plain(v) }
            return out
        }
        if (o instanceof List) {
            return o.collect { plain(it) }
        }
        return o
    }

    private Object block(String label, Closure body) {
        stack.push(label)
        try {
            return body.call()
        } finally {
            stack.pop()
        }
    }

    private String abs(String path) {
        if (path.startsWith('/') || path ==~ /^[A-Za-z]:.*/) {
            return path
        }
        return "${cwd()}/${path}".toString()
    }

    /** The current directory: the workspace, inside any `dir` blocks. */
    String cwd() {
        return ([workspace] + dirs).join('/')
    }

    /** Workspace-relative paths of the in-memory files under `workspace` matching `includes` ('a/**,b/**' or exact). */
    private Map<String, String> matching(String includes) {
        List<String> patterns = includes.split(',').collect { it.trim() }
        Map<String, String> out = [:]
        String prefix = "${workspace}/".toString()
        files.each { String path, String text ->
            if (path.startsWith(prefix)) {
                String rel = path.substring(prefix.length())
                if (patterns.any { it == '**' || (it.endsWith('/**') ? rel.startsWith(it[0..-3]) : rel == it) }) {
                    out[rel] = text
                }
            }
        }
        return out
    }

    /** Effective environment for a shell step: withEnv overlays and bound credentials, innermost last. */
    Map shellEnv() {
        Map out = [:]
        for (Map layer : envStack) {
            out.putAll(layer)
        }
        return out
    }

    private Object shell(String name, Object[] a) {
        record(name, a.toList())
        Map m = a[0] instanceof Map ? (Map) a[0] : [script: a[0]]
        if (!(m.script instanceof String)) {
            throw new AssertionError((Object) "${name} script must be a plain String, got ${m.script?.getClass()?.name}: ${m.script}".toString())
        }
        if (m.script in [NODE_CHECK, '@' + NODE_CHECK] && disk == null) {
            return nodeCheckStatus
        }
        Map e = shellEnv()
        if (m.script in [NODE_CHECK, '@' + NODE_CHECK]) {
            return realShell(m.script as String, e)
        }
        String resultFile = abs(e.DIFY_CI_RESULT_FILE as String)
        Map run = [command: e.DIFY_CI_COMMAND, params: new JsonSlurper().parseText(fileText(abs(e.DIFY_CI_PARAMS_FILE as String))),
                   resultFile: resultFile, env: e, stack: new ArrayList(stack), runner: e.DIFY_CI_RUNNER, shell: name]
        runs << run
        if (disk != null) {
            return realShell(m.script as String, e)
        }
        Map answer = run.command == 'context' && contextRunner != null ? contextRunner.call(run)
            : run.command == 'context' ? resolveContext(contextFor.call(run.params.step, run.params.env) as Map, run.params)
            : runner.call(run)
        if (answer.result != null) {
            fileWrite(resultFile, JsonOutput.toJson(answer.result))
        }
        return answer.exitCode
    }

    private int realShell(String script, Map e) {
        ProcessBuilder pb = new ProcessBuilder('bash', '-c', script).directory(new File(workspace)).redirectErrorStream(true)
        Map<String, String> pe = pb.environment()
        pe.keySet().removeAll(pe.keySet().findAll { it.startsWith('DIFY_CI_') })
        e.each { k, v -> pe[k as String] = v as String }
        pe.NO_COLOR = '1'
        Process p = pb.start()
        shellLog << p.inputStream.getText('UTF-8')
        return p.waitFor()
    }

    String fileText(String path) {
        if (disk != null) {
            File f = new File(path)
            if (!f.isFile()) {
                throw new FileNotFoundException(path)
            }
            return f.getText('UTF-8')
        }
        if (!files.containsKey(path)) {
            throw new FileNotFoundException(path)
        }
        return files[path]
    }

    boolean fileHas(String path) {
        return disk != null ? new File(path).exists() : files.containsKey(path)
    }

    void fileWrite(String path, String text) {
        if (disk != null) {
            File f = new File(path)
            f.parentFile.mkdirs()
            f.setText(text, 'UTF-8')
        } else {
            files[path] = text
        }
    }

    /** Real mode: a workspace directory on disk, with `runnerText` as the library's runner. */
    void useDisk(File dir) {
        disk = dir
        workspace = dir.canonicalPath
    }

    private void installSteps() {
        Map<String, Closure> s = [:]
        s.sh = { Object[] a -> shell('sh', a) }
        s.bat = { Object[] a -> shell('bat', a) }
        s.isUnix = { Object[] a -> record('isUnix', []); unix }
        s.pwd = { Object[] a ->
            record('pwd', a.toList())
            boolean tmp = a.length > 0 && a[0] instanceof Map && a[0].tmp
            tmp ? "${workspace}@tmp".toString() : cwd()
        }
        s.libraryResource = { Object[] a -> record('libraryResource', a.toList()); runnerText }
        s.writeFile = { Map m -> record('writeFile', [m]); fileWrite(abs(m.file as String), m.text as String); null }
        s.readFile = { Object[] a ->
            record('readFile', a.toList())
            fileText(abs((a[0] instanceof Map ? a[0].file : a[0]) as String))
        }
        s.fileExists = { Object[] a -> record('fileExists', a.toList()); fileHas(abs((a[0] instanceof Map ? a[0].file : a[0]) as String)) }
        s.withEnv = { List overrides, Closure body ->
            record('withEnv', [overrides.collect { it.toString() }])
            Map layer = [:]
            for (Object o : overrides) {
                String kv = o.toString()
                int eq = kv.indexOf('=')
                layer[kv.substring(0, eq)] = kv.substring(eq + 1)
            }
            envStack.push(layer)
            try {
                block('withEnv', body)
            } finally {
                envStack.pop()
            }
        }
        s.withCredentials = { List bindings, Closure body ->
            record('withCredentials', [bindings])
            Map layer = [:]
            for (Map b : bindings) {
                for (String key : ['variable', 'usernameVariable', 'passwordVariable']) {
                    if (b[key]) {
                        layer[b[key]] = secretOf(b.credentialsId as String, b[key] as String)
                    }
                }
            }
            envStack.push(layer)
            try {
                block('withCredentials', body)
            } finally {
                envStack.pop()
            }
        }
        // Describable symbols (credential bindings, parameters, triggers) evaluate to what they describe.
        for (String sym : ['string', 'file', 'usernamePassword', 'booleanParam', 'choice', 'parameters', 'pollSCM', 'pipelineTriggers', 'githubPush']) {
            String symbol = sym
            s[symbol] = { Object[] a -> [$symbol: symbol] + (a.length > 0 && a[0] instanceof Map ? (Map) a[0] : [args: a.toList()]) }
        }
        s.error = { String message -> record('error', [message]); throw new PipelineError(message) }
        s.unstable = { Object a ->
            record('unstable', [a instanceof Map ? a.message : a])
            currentBuild.worsen('UNSTABLE')
        }
        s.node = { Object[] a ->
            record('node', a.length > 1 ? [a[0]] : [])
            String outer = workspace
            List<String> outerDirs = new ArrayList<String>(dirs)
            if (nodeWorkspaces) {
                workspace = nodeWorkspaces[nodeCount % nodeWorkspaces.size()]
            }
            nodeCount++
            dirs.clear()
            try {
                block("node:${a.length > 1 ? a[0] : ''}".toString(), (Closure) a[-1])
            } finally {
                workspace = outer
                dirs.clear()
                dirs.addAll(outerDirs)
            }
        }
        s.stage = { String name, Closure body -> record('stage', [name]); block("stage:${name}".toString(), body) }
        s.lock = { Object a, Closure body ->
            record('lock', [a])
            block("lock:${a instanceof Map ? a.resource : a}".toString(), body)
        }
        s.timeout = { Map m, Closure body -> record('timeout', [m]); block('timeout', body) }
        s.dir = { String path, Closure body ->
            record('dir', [path])
            dirs.add(path)
            try {
                block("dir:${path}".toString(), body)
            } finally {
                dirs.remove(dirs.size() - 1)
            }
        }
        // Deletes the current directory (the in-memory files under it).
        s.deleteDir = { Object[] a ->
            record('deleteDir', [])
            String prefix = "${cwd()}/".toString()
            files.keySet().removeAll(files.keySet().findAll { it.startsWith(prefix) })
            null
        }
        // stash saves the matching workspace files (in-memory mode); unstash writes them into the current workspace.
        s.stash = { Object[] a ->
            record('stash', a.toList())
            Map m = a[0] instanceof Map ? (Map) a[0] : [name: a[0]]
            if (!lostStashes.contains(m.name as String)) {
                stashes[m.name as String] = disk == null ? matching((m.includes ?: '**') as String) : [:]
            }
            null
        }
        s.unstash = { Object[] a ->
            record('unstash', a.toList())
            String name = (a[0] instanceof Map ? a[0].name : a[0]) as String
            if (!stashes.containsKey(name)) {
                throw new PipelineError("No such saved stash \u2018${name}\u2019".toString())
            }
            stashes[name].each { String rel, String text -> fileWrite("${workspace}/${rel}".toString(), text) }
            null
        }
        s.input = { Map m ->
            record('input', [m])
            Object answer = inputAnswer instanceof Closure ? ((Closure) inputAnswer).call(m) : inputAnswer
            m.submitterParameter ? answer : null
        }
        s.parallel = { Map branches ->
            record('parallel', [branches.keySet().toList()])
            Throwable first = null
            for (Map.Entry e : branches.entrySet()) {
                if (e.key == 'failFast') {
                    continue
                }
                try {
                    block("parallel:${e.key}".toString(), (Closure) e.value)
                } catch (Throwable t) {
                    first = first ?: t
                }
            }
            if (first != null) {
                throw first
            }
            null
        }
        s.checkout = { Object a -> record('checkout', [a]); [GIT_BRANCH: 'origin/main', GIT_COMMIT: 'abc123'] }
        s.tool = { Object[] a -> record('tool', a.toList()); '/tools/node20' }
        s.readTrusted = { String path -> record('readTrusted', [path]); files[abs(path)] ?: '' }
        for (String plain : ['echo', 'archiveArtifacts', 'junit', 'milestone', 'properties']) {
            String n = plain
            s[n] = { Object[] a -> record(n, a.toList()); null }
        }
        s.each { k, v -> binding.setVariable(k, v) }
    }
}

/** What the `error` step throws (Jenkins: hudson.AbortException). */
class PipelineError extends RuntimeException {
    PipelineError(String message) {
        super(message)
    }
}

class FakeBuild implements Serializable {
    String result = null
    int number = 7
    FakeBuild previousBuild = null

    String getCurrentResult() {
        return result ?: 'SUCCESS'
    }

    void worsen(String r) {
        List order = ['SUCCESS', 'UNSTABLE', 'FAILURE', 'NOT_BUILT', 'ABORTED']
        if (order.indexOf(r) > order.indexOf(getCurrentResult())) {
            result = r
        }
    }
}

/** Like Jenkins' `env`: unset names read as null, every value is stored as a String. */
class FakeEnv {
    final Map<String, String> values = [:]

    Object propertyMissing(String name) {
        return values[name]
    }

    void propertyMissing(String name, Object value) {
        values[name] = value == null ? null : value.toString()
    }

    Object getAt(String name) {
        return values[name]
    }
}
