import static harness.PipelineHarness.*
import static org.junit.Assert.*

import harness.PipelineError
import harness.PipelineHarness
import harness.Vars
import org.junit.Before
import org.junit.Test

class StepsTest extends EngineTest {
    static final Map STEP_COMMANDS = [
        difyValidate: 'validate', difyPlan: 'plan', difyDeploy: 'deploy', difySmoke: 'smoke', difyRollback: 'rollback',
        difyBackup  : 'backup', difyStatus: 'status', difyNotify: 'notify',
    ]
    StepsTest(String engine) {
        super(engine)
    }

    @Before
    void setUp() {
        h = Vars.harness()
        // Each step and environment gets its own credential, so a binding can only have come from `context`.
        h.contextFor = { String step, String envName ->
            defaultContext(step, envName) + [credentials: [[type: 'string', credentialsId: "cred-${step}-${envName}".toString(), variables: ['TOKEN'], purpose: 'test']]]
        }
    }

    @Test
    void everyStepRunsItsCommandWithItsParametersAndReturnsTheResult() {
        STEP_COMMANDS.each { String step, String command ->
            PipelineHarness g = Vars.harness()
            Map params = [env: 'staging', app: 'support-bot', config: 'ci/dify-ci.yml']
            Map result = g.call(step, params)
            assertEquals(step, [command], g.commands()*.command)
            assertEquals(step, params, g.commands()[0].params)
            assertEquals(step, [step: command, env: 'staging', config: 'ci/dify-ci.yml'], g.runs[0].params)
            assertEquals(step, command, result.command)
            assertEquals(step, 0, result.exitCode)
        }
    }

    @Test
    void stepsWithoutParametersPassAnEmptyObject() {
        h.call('difyValidate')
        assertEquals([:], h.commands()[0].params)
    }

    @Test
    void credentialsComeOnlyFromContextForThatStepAndEnvironment() {
        STEP_COMMANDS.each { String step, String command ->
            h.calls.clear()
            h.call(step, [env: 'production'])
            List bindings = h.named('withCredentials')[0].args[0]
            assertEquals(step, [[$symbol: 'string', credentialsId: "cred-${command}-production".toString(), variable: 'TOKEN']], bindings)
        }
    }

    @Test
    void planTreatsExit3AsChangesOnlyWhenAskedForDetailedExitCodes() {
        h.runner = { Map run -> [exitCode: 3, result: okResult(run.command, [status: 'changes', summary: '2 apps change'])] }
        Map r = h.call('difyPlan', [env: 'staging', detailedExitcode: true])
        assertEquals(3, r.exitCode)
        assertEquals('changes', r.status)
        try {
            h.call('difyPlan', [env: 'staging'])
            fail('exit 3 without detailedExitcode must fail')
        } catch (PipelineError e) {
            assertEquals('dify-ci plan: 2 apps change [exit 3]', e.message)
        }
    }

    private Closure smokeRunner(int exitCode, boolean withJunit = true) {
        return { Map run ->
            List artifacts = withJunit ? [[path: '.dify-ci/reports/smoke-staging.xml', kind: 'junit'], [path: '.dify-ci/reports/smoke-staging.html', kind: 'html']] : []
            Map result = exitCode == 2 ? failResult('smoke', "tests/bot.yml:4:3: unknown assertion 'contain'", 'input', 2)
                : okResult('smoke', [status: exitCode ? 'failed' : 'success', summary: exitCode ? '1 of 5 cases failed' : '5 cases passed'])
            [exitCode: exitCode, result: result + [artifacts: artifacts]]
        }
    }

    @Test
    void smokePublishesJUnitThenFailsTheBuildOnFailures() {
        h.runner = smokeRunner(1)
        try {
            h.call('difySmoke', [env: 'staging'])
            fail('a smoke failure must fail the build')
        } catch (PipelineError e) {
            assertEquals('dify-ci smoke: 1 of 5 cases failed [operation]', e.message)
        }
        assertEquals([[testResults: '.dify-ci/reports/smoke-staging.xml', skipMarkingBuildUnstable: true, allowEmptyResults: true]], h.named('junit')*.args*.getAt(0))
        assertTrue('junit is published before the verdict', h.names().indexOf('junit') < h.names().indexOf('error'))
        assertEquals('the step decides, not junit', [], h.named('unstable'))
    }

    @Test
    void smokePublishesEveryJUnitReportTheResultListsAndOnlyThose() {
        h.runner = { Map run ->
            [exitCode: 1, result: okResult('smoke', [status: 'failed', summary: '2 of 9 cases failed', artifacts: [
                [path: '.dify-ci/reports/smoke/support-bot.xml', kind: 'junit'], [path: './.dify-ci/reports/smoke/triage.xml', kind: 'junit'],
                [path: '/tmp/outside.xml', kind: 'junit'], [path: '.dify-ci/reports/smoke/index.html', kind: 'html']]])]
        }
        try {
            h.call('difySmoke', [env: 'production'])
            fail('a smoke failure must fail the build')
        } catch (PipelineError e) {
            assertEquals('dify-ci smoke: 2 of 9 cases failed [operation]', e.message)
        }
        assertEquals(['.dify-ci/reports/smoke/support-bot.xml,.dify-ci/reports/smoke/triage.xml'], h.named('junit')*.args*.getAt(0)*.testResults)
    }

    @Test
    void whenTheSmokeStepItselfFailsTheErrorPropagatesAndNoReportIsInvented() {
        h.contextRunner = { Map run -> [exitCode: 2, result: failResult('context', "dify-ci.yml:3:1: unknown environment 'prod'", 'config', 2)] }
        try {
            h.call('difySmoke', [env: 'prod'])
            fail('a failing context must fail the step')
        } catch (PipelineError e) {
            assertEquals("dify-ci context: dify-ci.yml:3:1: unknown environment 'prod' [config]", e.message)
        }
        assertEquals('no result, so no report path to publish (a stale file would pass for this run\'s)', [], h.named('junit'))
    }

    @Test
    void smokeWithUnstableMarksTheBuildUnstableAndDoesNotPassTheFlagToTheRunner() {
        h.runner = smokeRunner(1)
        Map r = h.call('difySmoke', [env: 'staging', unstable: true, suite: 'tests/bot.yml'])
        assertEquals(1, r.exitCode)
        assertEquals(['dify-ci smoke: 1 of 5 cases failed [operation]'], h.named('unstable')*.args*.getAt(0))
        assertEquals('UNSTABLE', h.currentBuild.currentResult)
        assertEquals([[testResults: '.dify-ci/reports/smoke-staging.xml', skipMarkingBuildUnstable: true, allowEmptyResults: true]], h.named('junit')*.args*.getAt(0))
        assertTrue('published before the step marks the build', h.names().indexOf('junit') < h.names().indexOf('unstable'))
        assertEquals([], h.named('error'))
        assertEquals([env: 'staging', suite: 'tests/bot.yml'], h.commands()[0].params)
    }

    @Test
    void aBrokenSuiteIsAnErrorEvenWithUnstable() {
        h.runner = smokeRunner(2, false)
        try {
            h.call('difySmoke', [env: 'staging', unstable: true])
            fail('exit 2 is a configuration error, never UNSTABLE')
        } catch (PipelineError e) {
            assertEquals("dify-ci smoke: tests/bot.yml:4:3: unknown assertion 'contain' [input]", e.message)
        }
        assertEquals('no report, no junit call', [], h.named('junit'))
        assertEquals([], h.named('unstable'))
    }

    @Test
    void passingSmokePublishesJUnitAndSucceeds() {
        h.runner = smokeRunner(0)
        Map params = [env: 'staging']
        Map r = h.call('difySmoke', params)
        assertEquals(0, r.exitCode)
        assertEquals(1, h.named('junit').size())
        assertNull(h.currentBuild.result)
        assertEquals('the caller\'s map is not modified', [env: 'staging'], params)
    }
}
