package harness

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException

/**
 * A step-mocking harness for vars/: loads the var scripts, answers every Jenkins step they call, and records each
 * call in order with the blocks it ran inside (node, lock, stage…). The `sh`/`bat` mock plays the runner: it reads
 * the params file and the DIFY_CI_* variables exactly as the real runner would, then writes a result file.
 *
 * Two engines run the same vars over the same steps: plain Groovy, and Jenkins' own CPS interpreter
 * (harness.cps.CpsEngine, with ../shared/jenkins-cps), which saves the program at every step. Block steps are
 * enter/exit pairs so that the CPS engine can run their bodies as CPS code. Where Jenkins is strict the harness is
 * too: sh without returnStatus throws on a non-zero exit, withCredentials fails on an unknown id, readTrusted fails
 * on a file the target branch lacks or an outsider's PR changed, parallel honours failFast, a plain Pipeline job's
 * checkout follows a moving branch, and milestones order builds that share a MilestoneBoard.
 */
class PipelineHarness {
    static final String UNIX_RUN = 'node "$DIFY_CI_RUNNER" "$DIFY_CI_COMMAND" --result-file "$DIFY_CI_RESULT_FILE"'
    static final String WIN_NODE = '@for %%i in (node.exe) do @if "%%~$PATH:i"=="" (echo dify-ci: node.exe is not on PATH 1>&2 & exit /b 9) else "%%~$PATH:i"'
    static final String WIN_RUN = WIN_NODE + ' "%DIFY_CI_RUNNER%" "%DIFY_CI_COMMAND%" --result-file "%DIFY_CI_RESULT_FILE%"'
    static final String NODE_JS = ' -e "var v=process.versions.node; if (+v.split(\'.\')[0] < 20) { console.error(\'dify-ci needs Node.js >= 20, this agent has \' + v); process.exit(3) } require(\'fs\').renameSync(process.env.DIFY_CI_RUNNER_PART, process.env.DIFY_CI_RUNNER)"'
    static final String NODE_CHECK = 'node' + NODE_JS
    static final String WIN_NODE_CHECK = WIN_NODE + NODE_JS
    static final String UNIX_CONTEXT = UNIX_RUN + ' >/dev/null'
    static final String WIN_CONTEXT = WIN_RUN + ' >NUL'
    static final List<String> CONSTANT_SCRIPTS = [UNIX_RUN, WIN_RUN, UNIX_CONTEXT, WIN_CONTEXT, NODE_CHECK, WIN_NODE_CHECK]
    static final String RUNNER_TEXT = '#!/usr/bin/env node\n/* fake dify-ci runner */\n'
    static final List<String> BLOCKS = ['node', 'stage', 'lock', 'timeout', 'dir', 'withEnv', 'withCredentials']
    static final List<String> SYMBOLS = ['string', 'file', 'usernamePassword', 'booleanParam', 'choice', 'parameters', 'pollSCM', 'pipelineTriggers',
                                         'githubPush', 'buildDiscarder', 'logRotator', 'disableConcurrentBuilds']

    /** Every step call: [name, args (List), stack (enclosing blocks, outermost first)]. */
    final List<Map> calls = []
    /** Every runner invocation seen by sh/bat: [command, params, resultFile, env, stack, commit]. */
    final List<Map> runs = []
    /** The agent file system (absolute path -> text). */
    final Map<String, String> files = [:]
    final List<Map> envStack = []
    final FakeEnv env = new FakeEnv(layers: envStack)
    final Map params = [:]
    final FakeBuild currentBuild = new FakeBuild()
    final Map scm = [userRemoteConfigs: [[url: 'https://git.example.com/acme/bots.git', credentialsId: 'git', name: 'origin', refspec: '+refs/heads/*:refs/remotes/origin/*']],
                     extensions: [[$class: 'CloneOption', shallow: true, depth: 1]], branches: [[name: '*/main']]]
    final List<String> stack = []
    /** The build log: echo lines, and error messages; a bound secret is masked inside its withCredentials block only. */
    final List<String> console = []

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
    /** The branch head after each `checkout scm` of a plain Pipeline job (a push between nodes moves it). */
    List<String> branchHeads = ['c0ffee1']
    /** The tag's commit for a tag checkout. */
    String tagCommit = '7a9c0de'
    /** The target branch's files, for readTrusted (workspace-relative path -> text); null: readTrusted of a branch build. */
    Map<String, String> trusted = null
    /** Credential ids that exist (withCredentials fails on any other); null: every id exists. */
    Set<String> credentialIds = null
    /** Shared by the builds of one job (two harnesses), for milestone ordering. */
    MilestoneBoard milestones = new MilestoneBoard()
    /** 'plain' or 'cps' (Jenkins' CPS interpreter, saving the program at every step). */
    final String engine
    /** CPS engine: save points written, and every serialization problem met. */
    int savePoints = 0
    final List<String> serializationProblems = []

    private int nodeCount = 0
    private int checkouts = 0
    private final List<String> dirs = []
    private final List<Integer> ordinals = []
    private final Binding binding = new Binding()
    private final Map<String, Script> vars = [:]
    private final Map<String, Closure> steps = [:]
    private Object cps = null

    /** sources: var name -> source, for vars that are test fixtures rather than files in vars/. */
    PipelineHarness(List<String> varNames, String engine = 'plain', Map<String, String> sources = [:]) {
        this.engine = engine
        binding.setVariable('env', env)
        binding.setVariable('params', params)
        binding.setVariable('currentBuild', currentBuild)
        binding.setVariable('scm', scm)
        env.BUILD_NUMBER = '7'
        env.JOB_NAME = 'acme/bots'
        installSteps()
        if (engine == 'cps') {
            cps = Class.forName('harness.cps.CpsEngine').newInstance()
            binding.setVariable('__harness', this)
        }
        for (String name : varNames) {
            Script s = engine == 'cps' ? (Script) cps.newVar(name, binding, sources[name])
                : (Script) (sources[name] ? new GroovyClassLoader(PipelineHarness.classLoader).parseClass(sources[name], "${name}.groovy".toString()) : varClass(name)).newInstance()
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
        ordinals.clear() // each call is one build
        milestones.started(currentBuild.number)
        try {
            return engine == 'cps' ? cps.run(this, varName, args) : vars[varName].invokeMethod('call', args)
        } finally {
            milestones.completed(currentBuild.number)
        }
    }

    /** A var's script object (RealRunnerTest calls difyRun.context on it). */
    Script var(String name) {
        return vars[name]
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
            staging   : [approvalRequired: false, submitter: null, message: 'Deploy to staging?', timeoutMinutes: 60, protected: false, hasSmoke: true, waves: 0,
                         lock: 'dify-ci https://dify-staging.example.com ws-s'],
            production: [approvalRequired: true, submitter: 'release-managers,bob', message: 'Deploy to production?', timeoutMinutes: 30, protected: true, hasSmoke: true, waves: 0,
                         lock: 'dify-ci https://dify.example.com ws-42'],
        ]
        return [step: step, env: envName, version: 'dify-ci 0.1.0 (runner 0123456789ab)', untrusted: false, credentials: bindings, approval: envName ? details[envName] : null,
                protected: envName == 'production', environments: ['staging', 'production'], apps: ['support-bot', 'triage'],
                pipeline: [environments: ['staging', 'production'], approvalPolicy: 'always', everyNth: 1, mainBranch: 'main',
                           nodejsTool: null, agentLabel: null, shards: 1, smokeUnstable: false],
                environmentDetails: details]
    }

    /**
     * What the real runner does with the context parameters (runner/src/config/context.ts; RealRunnerTest checks
     * the real one): `overrides` (difyPipeline's options) checked and laid over `pipeline` (the file's settings, as
     * contextFor returns them), and for `pipeline` each environment's gate from branch and tag (every-nth: the
     * `goodBuilds` contextFor reports per environment, counted from the deploy history, plus this build).
     */
    static Map resolveContext(Map data, Map params, boolean untrusted = false) {
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
        out.untrusted = untrusted
        if (untrusted) {
            out.credentials = []
        }
        if (params.step == 'pipeline' && data.environmentDetails != null) {
            Map details = [:]
            data.environmentDetails.each { String e, Map d ->
                int i = p.environments.indexOf(e)
                Map promotion = p.approvalPolicy == 'every-nth' && !params.tag && params.branch == p.mainBranch && (d.approvalRequired || d.protected)
                    ? [goodBuilds: (i > 0 ? ((data.goodBuilds ?: [:])[e] ?: 0) : (p.everyNth as int) - 1) + 1, needed: p.everyNth] : null
                details[e] = d + [gate: gate(p, d, params, promotion), promotion: promotion]
            }
            out.environmentDetails = details
        }
        out.remove('goodBuilds')
        return [exitCode: 0, result: okResult('context', [data: out])]
    }

    private static String gate(Map p, Map d, Map facts, Map promotion) {
        if (!d.approvalRequired && !d.protected) {
            return 'go'
        }
        switch (p.approvalPolicy) {
            case 'never': return d.protected ? 'ask' : 'go'
            case 'always': return 'ask'
            case 'main-branch': return facts.branch != null && facts.branch == p.mainBranch ? 'ask' : 'stop'
            case 'tags': return facts.tag ? 'ask' : 'stop'
            case 'every-nth': return facts.tag || (promotion != null && promotion.goodBuilds >= promotion.needed) ? 'ask' : 'stop'
        }
        throw new IllegalStateException("unknown approval policy '${p.approvalPolicy}'")
    }

    /** The fake secret value withCredentials binds for a credentials id (tests assert it never reaches a script). */
    static String secretOf(String credentialsId, String variable) {
        return "s3cr3t-${credentialsId}-${variable}".toString()
    }

    // ---- recording, files, shells ----------------------------------------------------------------------------

    private void record(String name, List args) {
        milestones.check(currentBuild.number) // a cancelled build stops at its next step
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

    private String abs(String path, String base = null) {
        if (path.startsWith('/') || path ==~ /^[A-Za-z]:.*/) {
            return path
        }
        return "${base ?: cwd()}/${path}".toString()
    }

    /** The current directory: the workspace, inside any `dir` blocks (a `dir` given an absolute path replaces it). */
    String cwd() {
        String at = workspace
        for (String d : dirs) {
            at = d.startsWith('/') || d ==~ /^[A-Za-z]:.*/ ? d : "${at}/${d}".toString()
        }
        return at
    }

    /** Workspace-relative paths of the in-memory files under `workspace` matching `includes` ('a/**,b/**' or exact). */
    private Map<String, String> matching(String includes) {
        List<String> patterns = includes.split(',').collect { it.trim() }.findAll { it }
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

    /** Bound secret values, for the build log's masking (only inside withCredentials, as Jenkins does). */
    private List<String> boundSecrets() {
        return envStack.findAll { it.containsKey('__secrets') }.collectMany { it.__secrets as List }
    }

    private Object shell(String name, Object[] a) {
        record(name, a.toList())
        Map m = a[0] instanceof Map ? (Map) a[0] : [script: a[0]]
        if (!(m.script instanceof String)) {
            throw new AssertionError((Object) "${name} script must be a plain String, got ${m.script?.getClass()?.name}: ${m.script}".toString())
        }
        int status = runShell(name, m.script as String)
        if (m.returnStatus) {
            return status
        }
        if (status != 0) {
            throw new PipelineError("script returned exit code ${status}") // Jenkins: only returnStatus hands back a status
        }
        return null
    }

    private int runShell(String name, String script) {
        Map e = shellEnv().findAll { k, v -> k != '__secrets' }
        if (script in [NODE_CHECK, WIN_NODE_CHECK]) {
            if (disk != null) {
                return realShell(script, e)
            }
            if (nodeCheckStatus == 0) { // node renames this call's part file into place
                String base = e.DIFY_CI_WORKSPACE ?: cwd()
                fileWrite(abs(e.DIFY_CI_RUNNER as String, base), fileText(abs(e.DIFY_CI_RUNNER_PART as String, base)))
                files.remove(abs(e.DIFY_CI_RUNNER_PART as String, base))
            }
            return nodeCheckStatus
        }
        // The runner resolves relative paths in the workspace (DIFY_CI_WORKSPACE when started from elsewhere).
        String base = e.DIFY_CI_WORKSPACE ?: cwd()
        String resultFile = abs(e.DIFY_CI_RESULT_FILE as String, base)
        Map run = [command: e.DIFY_CI_COMMAND, params: new JsonSlurper().parseText(fileText(abs(e.DIFY_CI_PARAMS_FILE as String, base))),
                   resultFile: resultFile, env: e, stack: new ArrayList(stack), runner: e.DIFY_CI_RUNNER, shell: name, cwd: cwd(),
                   commit: commitOf[workspace]]
        runs << run
        if (disk != null) {
            return realShell(script, e)
        }
        Map answer = run.command == 'context' ? contextAnswer(run) : runner.call(run)
        if (answer.result != null) {
            fileWrite(resultFile, JsonOutput.toJson(answer.result))
        }
        return answer.exitCode
    }

    /** The fake context; an untrusted build first asks for the configuration through readTrusted, like the runner. */
    private Map contextAnswer(Map run) {
        if (contextRunner != null) {
            return contextRunner.call(run)
        }
        String trustedDir = run.env.DIFY_CI_TRUSTED_DIR
        if (trustedDir) {
            String config = (run.params.config ?: 'dify-ci.yml') as String
            if (!files.containsKey(abs(config, trustedDir))) {
                return [exitCode: 0, result: okResult('context', [data: [untrusted: true, needsTrusted: [config]]])]
            }
        }
        return resolveContext(contextFor.call(run.params.step, run.params.env) as Map, run.params, trustedDir != null || env.CHANGE_ID != null)
    }

    private int realShell(String script, Map e) {
        ProcessBuilder pb = new ProcessBuilder('bash', '-c', script).directory(new File(cwd())).redirectErrorStream(true)
        Map<String, String> pe = pb.environment()
        pe.keySet().removeAll(pe.keySet().findAll { it.startsWith('DIFY_CI_') })
        env.values.each { k, v -> if (v != null) { pe[k as String] = v as String } }
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

    // ---- block steps: enter and exit, so either engine runs the body --------------------------------------

    static boolean isBlock(String name) {
        return name in BLOCKS
    }

    static boolean isSymbol(String name) {
        return name in SYMBOLS
    }

    boolean isStep(String name) {
        return steps.containsKey(name) && !isSymbol(name) && !isBlock(name) && name != 'parallel'
    }

    /** Runs a plain step (the CPS engine calls this between save points). */
    Object step(String name, Object[] args) {
        return steps[name].call(args)
    }

    /** A describable symbol (`string(...)`, `parameters(...)`): evaluated inline, as Jenkins does; not a step. */
    Object symbol(String name, Object[] args) {
        return steps[name].call(args)
    }

    /** Enters a block step; returns what exit needs. Throws (before the body) where Jenkins would. */
    Map enter(String name, List args) {
        Map frame = [name: name, depth: stack.size()]
        switch (name) {
            case 'node':
                record('node', args ? [args[0]] : [])
                frame.workspace = workspace
                frame.dirs = new ArrayList<String>(dirs)
                if (nodeWorkspaces) {
                    workspace = nodeWorkspaces[nodeCount % nodeWorkspaces.size()]
                }
                nodeCount++
                dirs.clear()
                stack.push("node:${args ? args[0] : ''}".toString())
                break
            case 'stage':
                record('stage', [args[0]])
                stack.push("stage:${args[0]}".toString())
                break
            case 'lock':
                record('lock', [args[0]])
                stack.push("lock:${args[0] instanceof Map ? args[0].resource : args[0]}".toString())
                break
            case 'timeout':
                record('timeout', [args[0]])
                stack.push('timeout')
                break
            case 'dir':
                record('dir', [args[0]])
                dirs.add(args[0] as String)
                stack.push("dir:${args[0]}".toString())
                break
            case 'withEnv':
                record('withEnv', [args[0].collect { it.toString() }])
                Map layer = [:]
                for (Object o : (List) args[0]) {
                    String kv = o.toString()
                    int eq = kv.indexOf('=')
                    layer[kv.substring(0, eq)] = kv.substring(eq + 1)
                }
                envStack.push(layer)
                stack.push('withEnv')
                break
            case 'withCredentials':
                record('withCredentials', [args[0]])
                Map layer = [__secrets: []]
                for (Map b : (List<Map>) args[0]) {
                    if (credentialIds != null && !credentialIds.contains(b.credentialsId)) {
                        throw new PipelineError("Could not find credentials entry with ID '${b.credentialsId}'".toString())
                    }
                    for (String key : ['variable', 'usernameVariable', 'passwordVariable']) {
                        if (b[key]) {
                            layer[b[key]] = secretOf(b.credentialsId as String, b[key] as String)
                            layer.__secrets << layer[b[key]]
                        }
                    }
                }
                envStack.push(layer)
                stack.push('withCredentials')
                break
            case 'parallel':
                stack.push("parallel:${args[0]}".toString())
                break
            default:
                throw new IllegalArgumentException("not a block step: ${name}")
        }
        return frame
    }

    void exit(Map frame) {
        while (stack.size() > (frame.depth as int)) {
            stack.pop()
        }
        switch (frame.name) {
            case 'node':
                workspace = frame.workspace
                dirs.clear()
                dirs.addAll(frame.dirs as List<String>)
                break
            case 'dir':
                dirs.remove(dirs.size() - 1)
                break
            case 'withEnv':
            case 'withCredentials':
                envStack.pop()
                break
        }
    }

    /** parallel's start: the branch names (failFast: a failure stops the others). */
    void parallelStart(List names, boolean failFast) {
        record('parallel', failFast ? [names, [failFast: true]] : [names])
    }

    /** A branch failFast kept from running, as Jenkins interrupts it. */
    void parallelAborted(String branch) {
        console << "Failed in branch ${branch}: aborted (failFast)".toString()
    }

    // ---- the steps -----------------------------------------------------------------------------------------

    /** The checkout of `scm` or a GitSCM map: which commit it yields (a plain job's branch may have moved). */
    private final Map<String, String> commitOf = [:]

    private Map checkoutOf(Object a) {
        Map m = a instanceof Map && a.containsKey('scm') ? (Map) a.scm : (Map) a
        String ref = m.branches ? m.branches[0].name : null
        String commit
        if (m.is(scm) || m == scm) {
            // Multibranch pins the build's revision in `scm`; a plain Pipeline job resolves the branch head each time.
            commit = env.BRANCH_NAME ? branchHeads[0] : branchHeads[Math.min(checkouts, branchHeads.size() - 1)]
        } else if (ref?.startsWith('refs/tags/')) {
            commit = tagCommit
        } else {
            commit = ref
        }
        checkouts++
        commitOf[workspace] = commit
        return [GIT_BRANCH: env.BRANCH_NAME ? env.BRANCH_NAME : 'origin/main', GIT_COMMIT: commit]
    }

    private void installSteps() {
        Map<String, Closure> s = steps
        s.sh = { Object[] a -> shell('sh', a) }
        s.bat = { Object[] a -> shell('bat', a) }
        s.isUnix = { Object[] a -> record('isUnix', []); unix }
        s.pwd = { Object[] a ->
            record('pwd', a.toList())
            boolean tmp = a.length > 0 && a[0] instanceof Map && a[0].tmp
            tmp ? "${workspace}@tmp".toString() : cwd()
        }
        s.libraryResource = { Object[] a -> record('libraryResource', a.toList()); runnerText }
        s.writeFile = { Object[] a -> Map m = (Map) a[0]; record('writeFile', [m]); fileWrite(abs(m.file as String), m.text as String); null }
        s.readFile = { Object[] a ->
            record('readFile', a.toList())
            fileText(abs((a[0] instanceof Map ? a[0].file : a[0]) as String))
        }
        s.fileExists = { Object[] a -> record('fileExists', a.toList()); fileHas(abs((a[0] instanceof Map ? a[0].file : a[0]) as String)) }
        // Describable symbols (credential bindings, parameters, triggers) evaluate to what they describe.
        for (String sym : SYMBOLS) {
            String symbol = sym
            s[symbol] = { Object[] a -> [$symbol: symbol] + (a.length > 0 && a[0] instanceof Map ? (Map) a[0] : [args: a.toList()]) }
        }
        s.error = { Object[] a -> String message = a[0] as String; record('error', [message]); console << message; throw new PipelineError(message) }
        s.echo = { Object[] a ->
            record('echo', a.toList())
            String line = a[0] as String
            for (String secret : boundSecrets()) {
                line = line.replace(secret, '****')
            }
            console << line
            null
        }
        s.unstable = { Object[] a ->
            record('unstable', [a[0] instanceof Map ? a[0].message : a[0]])
            currentBuild.worsen('UNSTABLE')
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
        s.input = { Object[] a ->
            Map m = (Map) a[0]
            record('input', [m])
            Object answer = inputAnswer instanceof Closure ? ((Closure) inputAnswer).call(m) : inputAnswer
            m.submitterParameter ? answer : null
        }
        s.milestone = { Object[] a ->
            record('milestone', a.toList())
            Map m = a[0] instanceof Map ? (Map) a[0] : [ordinal: a[0]]
            if (stack.any { it.startsWith('parallel:') }) {
                throw new PipelineError('Using a milestone step inside parallel is not allowed')
            }
            int ordinal = m.ordinal != null ? (m.ordinal as int) : (ordinals ? ordinals[-1] + 1 : 0)
            if (ordinals && ordinals[-1] >= ordinal) {
                throw new PipelineError("Invalid ordinal ${ordinal}, as the previous one was ${ordinals[-1]}".toString())
            }
            ordinals << ordinal
            milestones.pass(currentBuild.number, ordinal)
            milestones.check(currentBuild.number)
            null
        }
        s.checkout = { Object[] a -> record('checkout', a.toList()); checkoutOf(a[0]) }
        s.tool = { Object[] a -> record('tool', a.toList()); '/tools/node20' }
        // readTrusted: the target branch's file; fails when it has none, or (an untrusted PR) when the PR changed it.
        s.readTrusted = { Object[] a ->
            String path = a[0] as String
            record('readTrusted', [path])
            String at = "${workspace}/${path}".toString()
            String mine = fileHas(at) ? fileText(at) : null
            if (trusted == null || !env.CHANGE_ID) {
                if (mine == null) {
                    throw new PipelineError("${workspace}/${path} not found".toString())
                }
                return mine
            }
            if (!trusted.containsKey(path)) {
                throw new PipelineError("${path} not found in the trusted revision".toString())
            }
            if (mine != trusted[path]) {
                throw new PipelineError("\u2018${path}\u2019 has been modified in an untrusted revision".toString())
            }
            return trusted[path]
        }
        for (String plain : ['archiveArtifacts', 'junit', 'properties']) {
            String n = plain
            s[n] = { Object[] a -> record(n, a.toList()); null }
        }
        // Plain engine: the block steps run their body between enter and exit.
        for (String b : BLOCKS) {
            String block = b
            s[block] = { Object[] a ->
                Map frame = enter(block, a.length > 1 ? a.toList()[0..-2] : [])
                try {
                    return ((Closure) a[-1]).call()
                } finally {
                    exit(frame)
                }
            }
        }
        s.parallel = { Map branches ->
            boolean failFast = branches.failFast == true
            List names = branches.keySet().findAll { it != 'failFast' }.toList()
            parallelStart(names, failFast)
            Throwable first = null
            for (Object name : names) {
                if (first != null && failFast) {
                    parallelAborted(name as String)
                    continue
                }
                Map frame = enter('parallel', [name])
                try {
                    ((Closure) branches[name]).call()
                } catch (Throwable t) {
                    first = first ?: t
                } finally {
                    exit(frame)
                }
            }
            if (first != null) {
                throw first
            }
            null
        }
        // The plain engine finds the steps in the binding, as Groovy calls a closure variable. The CPS engine must not:
        // the interpreter would call such a closure as plain code, body and all; CpsPipelineScript routes them.
        if (engine != 'cps') {
            s.each { k, v -> binding.setVariable(k, v) }
        }
    }
}
