import static org.junit.Assert.*

import harness.Vars
import org.junit.Test

/** Rules every var follows (jenkins-notes.md): what a mock cannot exercise is checked on the source text. */
class ConventionTest {
    // difyPipeline is back under its original cap with its stages in difyPipelineInternal (issue 20); difyRun grew by
    // the Windows lookup of node and the readTrusted loop of untrusted builds (issue 14).
    static final Map<String, Integer> MAX_LINES = [difyRun: 220, difyPipeline: 350, difyPipelineInternal: 350]
    static final int STEP_MAX_LINES = 40

    /** Source without comments, so rules apply to code. */
    static String code(String name) {
        return Vars.source(name).replaceAll(/(?m)^\s*\/\/.*$/, '').replaceAll(/(?s)\/\*.*?\*\//, '')
    }

    @Test
    void thereAreVarsToCheck() {
        assertTrue(Vars.names().containsAll(['difyRun', 'difyPipeline', 'difyDeploy', 'difySmoke']))
    }

    @Test
    void everyVarHasAHelpPage() {
        for (String name : Vars.names()) {
            File txt = new File(Vars.dir(), "${name}.txt")
            assertTrue("vars/${name}.txt is missing (run node scripts/gen-step-docs.mjs)", txt.isFile())
            assertTrue("vars/${name}.txt is empty", txt.text.trim().length() > 0)
        }
    }

    @Test
    void everyPublicVarGoesThroughTheExecutor() {
        for (String name : Vars.names() - 'difyRun') {
            assertTrue("${name} must call difyRun or the dify* steps built on it", (code(name) =~ /\bdify[A-Z]\w*\s*[(.]/).find())
        }
        for (String name : Vars.names() - ['difyRun', 'difyPipeline', 'difyPipelineInternal']) {
            assertTrue("${name} must call difyRun", (code(name) =~ /\bdifyRun\s*[(.]/).find())
        }
    }

    /** The public steps built on difyRun; a new var must be added here (or to the exceptions) to be checked. */
    static final List<String> RESULT_STEPS = ['difyValidate', 'difyPlan', 'difyDeploy', 'difySmoke', 'difyRollback', 'difyNotify', 'difyBackup', 'difyStatus']

    @Test
    void everyPublicStepReturnsTheResultMapFromDifyRun() {
        assertEquals('every var but the executor and the pipeline is a result step', Vars.names() - ['difyRun', 'difyPipeline', 'difyPipelineInternal'], RESULT_STEPS.sort(false))
        List<String> problems = []
        for (String step : RESULT_STEPS) {
            harness.PipelineHarness h = Vars.harness()
            String marker = "marker-${step}".toString()
            h.runner = { Map run -> [exitCode: 0, result: harness.PipelineHarness.okResult(run.command as String, [data: [marker: marker]])] }
            Object result = h.call(step, [env: 'staging'])
            String command = h.commands() ? h.commands()[0].command : '?'
            Map expected = [command: command, marker: marker, exitCode: 0, message: "dify-ci ${command}: ${command} ok [exit 0]".toString()]
            Map got = result instanceof Map ? [command: result.command, marker: result.data instanceof Map ? result.data.marker : null, exitCode: result.exitCode, message: result.message] : null
            if (got != expected) {
                problems << "${step} must return the result map from difyRun (the runner's result, exitCode, message); it returned ${result}".toString()
            }
        }
        assertEquals(problems.join('\n'), [], problems)
        // A result a step lets through without failing is returned too: plan's "changes", smoke's UNSTABLE.
        harness.PipelineHarness h = Vars.harness()
        h.runner = { Map run -> [exitCode: 3, result: harness.PipelineHarness.okResult('plan', [status: 'changes', data: [marker: 'plan-3']])] }
        assertEquals('plan-3', h.call('difyPlan', [env: 'staging', detailedExitcode: true]).data.marker)
        h = Vars.harness()
        h.runner = { Map run -> [exitCode: 1, result: harness.PipelineHarness.okResult('smoke', [status: 'failed', data: [marker: 'smoke-1']])] }
        assertEquals('smoke-1', h.call('difySmoke', [env: 'staging', unstable: true]).data.marker)
    }

    @Test
    void noInterpolatedShellScripts() {
        for (String name : Vars.names()) {
            String src = code(name)
            assertFalse("${name}: sh/bat with a double-quoted (GString) script", (src =~ /\b(sh|bat)\s*\(?\s*"/).find())
            assertFalse("${name}: script: given as a double-quoted (GString) string", (src =~ /\bscript\s*:\s*"/).find())
            assertFalse("${name}: triple-quoted strings are not allowed in vars", src.contains('"""') || src.contains("'''"))
            // The only scripts are constants: a single-quoted literal, or a variable only ever given single-quoted
            // literals (the runtime tests then compare every script run exactly).
            def m = src =~ /\b(sh|bat)\s*\(([^)]*)\)/
            while (m.find()) {
                String call = m.group(0)
                assertTrue("${name}: ${call} must use returnStatus", m.group(2).contains('returnStatus: true'))
                def arg = m.group(2) =~ /script\s*:\s*(?:'@'\s*\+\s*)?('|(\w+))/
                assertTrue("${name}: ${call}: script must be a single-quoted constant", arg.find())
                if (arg.group(2)) {
                    def assignments = src =~ /(?m)\b${arg.group(2)}\s*\+?=(?!=)(.*)$/
                    int seen = 0
                    while (assignments.find()) {
                        seen++
                        String rest = assignments.group(1).replaceAll(/'(?:[^'\\]|\\.)*'/, '')
                        assertFalse("${name}: ${arg.group(2)} is given something other than single-quoted literals: ${assignments.group(0)}", rest.contains('"') || rest.contains('$'))
                    }
                    assertTrue("${name}: ${arg.group(2)} is never assigned", seen > 0)
                }
            }
        }
    }

    @Test
    void stepsStayShortAndTheExecutorAndPipelineStayBounded() {
        for (String name : Vars.names()) {
            int lines = Vars.source(name).readLines().size()
            int max = MAX_LINES[name] ?: STEP_MAX_LINES
            assertTrue("${name} has ${lines} lines (max ${max})", lines <= max)
        }
    }

    @Test
    void cpsSafeGroovyOnly() {
        List<List> banned = [
            [/\.(each|eachWithIndex|collect|collectEntries|findAll|find|any|every|sort|inject|groupBy|count|sum|max|min)\s*(\(\s*)?\{/, 'a closure passed to a collection method (CPS)'],
            [/@NonCPS/, '@NonCPS'],
            [/(?m)^\s*(abstract\s+|final\s+)?class\s/, 'a class (state does not survive a restart)'],
            [/\bnew\s+(File|FileReader|FileWriter|URL|Thread)\b|\bjava\.io\./, 'controller-side Java I/O'],
            [/\b(Jenkins\.instance|Jenkins\.get|System\.(getenv|exit|getProperty)|Thread\.sleep|currentBuild\.rawBuild)\b/, 'a Java/Jenkins API call'],
            [/\breadJSON\b|\breadYaml\b|\bwriteJSON\b/, 'pipeline-utility-steps (not a required plugin)'],
            [/\bsh\s*\([^)]*returnStdout/, 'returnStdout (read the result file instead)'],
        ]
        for (String name : Vars.names()) {
            String src = code(name)
            for (List rule : banned) {
                def m = src =~ rule[0]
                assertFalse("${name}: ${rule[1]}: ${m.find() ? m.group(0) : ''}", (src =~ rule[0]).find())
            }
        }
    }

    @Test
    void jsonIsParsedWithTheSerializableSlurperOnly() {
        for (String name : Vars.names()) {
            String src = code(name)
            assertFalse("${name}: JsonSlurper (lazy maps are not serializable) — use JsonSlurperClassic", (src =~ /JsonSlurper(?!Classic)\b/).find())
        }
    }
}
