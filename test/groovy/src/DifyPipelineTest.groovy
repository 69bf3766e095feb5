import static harness.PipelineHarness.*
import static org.junit.Assert.*

import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import harness.FakeBuild
import harness.PipelineError
import harness.PipelineHarness
import harness.Vars
import org.jenkinsci.plugins.workflow.steps.FlowInterruptedException
import org.junit.Before
import org.junit.Test

class DifyPipelineTest extends PipelineScenarios {
    DifyPipelineTest(String engine) {
        super(engine)
    }

    @Test
    void theCallReturnsNothing() {
        assertNull(h.call('difyPipeline'))
    }

    @Test
    void stagesRunInOrderThroughBothEnvironments() {
        assertNull(runPipeline())
        assertEquals(['Validate', 'Plan', 'Deploy staging', 'Smoke staging', 'Approve production', 'Deploy production', 'Smoke production', 'Notify'], h.stages())
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'deploy production', 'smoke production', 'notify success'], commandLine())
        assertNull(h.currentBuild.result)
        assertEquals('the log says which library ran', 'dify-ci: dify-ci 0.1.0 (runner 0123456789ab)', h.console[0])
    }


    @Test
    void approvalUsesTheSubmitterWaitsOutsideAnyNodeAndPassesTheApprover() {
        h.inputAnswer = 'bob'
        runPipeline()
        List inputs = h.named('input')
        assertEquals(1, inputs.size())
        Map input = inputs[0].args[0]
        assertEquals('release-managers,bob', input.submitter)
        assertEquals('approver', input.submitterParameter)
        assertEquals('Deploy to production?', input.message)
        assertFalse('input must not hold an executor', inNode(inputs[0]))
        assertTrue(inputs[0].stack.contains('timeout'))
        assertEquals([time: 30, unit: 'MINUTES'], h.named('timeout')[0].args[0])
        Map prodDeploy = h.commands().find { it.command == 'deploy' && it.params.env == 'production' }
        assertEquals('bob', prodDeploy.params.approvedBy)
        assertNull(h.commands().find { it.command == 'deploy' && it.params.env == 'staging' }.params.approvedBy)
    }

    @Test
    void theApproverIsTakenFromAMapAnswerToo() {
        h.inputAnswer = [approver: 'carol', comment: 'ok']
        runPipeline()
        assertEquals('carol', h.commands().find { it.command == 'deploy' && it.params.env == 'production' }.params.approvedBy)
    }

    @Test
    void deploysAndSmokeRunInsideTheEnvironmentLockAfterItsMilestone() {
        runPipeline()
        assertEquals('each lock names the Dify server and workspace it protects, from the runner\'s context (issue 14 #7)',
            [[resource: STAGING_LOCK, inversePrecedence: true], [resource: PROD_LOCK, inversePrecedence: true]], h.named('lock')*.args*.getAt(0))
        for (String e : ['staging', 'production']) {
            for (String cmd : ['deploy', 'smoke']) {
                Map run = h.commands().find { it.command == cmd && it.params.env == e }
                assertTrue("${cmd} ${e} inside lock", run.stack.contains("lock:${LOCKS[e]}".toString()))
                assertTrue("${cmd} ${e} on an agent", run.stack.any { it.startsWith('node:') })
            }
            int lockedMilestone = h.calls.findIndexOf { it.name == 'milestone' && it.stack.contains("lock:${LOCKS[e]}".toString()) }
            int deploy = h.calls.findIndexOf { it.name == 'sh' && it.args[0].label.toString() == "dify-ci deploy ${e}".toString() }
            assertTrue("milestone inside the ${e} lock before the deploy", lockedMilestone >= 0 && lockedMilestone < deploy)
        }
        List ordinals = h.named('milestone').collect { it.args[0].ordinal }
        assertEquals('increasing: approval (before/after) and inside each lock', [3, 11, 12, 13], ordinals)
        assertFalse(h.named('milestone').find { it.args[0].ordinal == 11 }.stack.any { it.startsWith('lock:') })
    }

    @Test
    void aFailedProductionSmokeRollsBackEverythingThisBuildDeployedThenNotifiesFailure() {
        h.runner = failing('smoke', 'production')
        Throwable t = runPipeline()
        assertTrue(t instanceof PipelineError)
        assertEquals('dify-ci smoke: smoke failed in production [operation]', t.message)
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'deploy production', 'smoke production',
                      'rollback production', 'rollback staging', 'notify failure'], commandLine())
        Map prod = h.commands().find { it.command == 'rollback' && it.params.env == 'production' }
        Map staging = h.commands().find { it.command == 'rollback' && it.params.env == 'staging' }
        assertTrue('production is rolled back before its lock is released', prod.stack.contains("lock:${PROD_LOCK}".toString()))
        assertTrue(staging.stack.contains("lock:${STAGING_LOCK}".toString()))
        assertEquals('the protected environment\'s rollback carries its approver', 'alice', prod.params.approvedBy)
        assertNull(staging.params.approvedBy)
        assertThisBuildRollback('production', 'alice')
        assertThisBuildRollback('staging', null)
        assertFalse('never the old rollback over every target', h.commands().any { it.command == 'rollback' && it.params.containsKey('to') })
        assertEquals([status: 'failure', config: null, results: '.dify-ci/results'], h.commands()[-1].params)
        assertEquals('FAILURE', h.currentBuild.result)
        assertEquals(['Roll back production', 'Roll back staging', 'Notify'], h.stages()[-3..-1])
    }

    @Test
    void aDeployThatFailsHalfWayIsRolledBackThenEarlierEnvironments() {
        // A failed deploy may have deployed some of its targets: the this-build rollback undoes exactly those.
        h.runner = failing('deploy', 'production')
        assertNotNull(runPipeline())
        assertEquals(['deploy production', 'rollback production', 'rollback staging', 'notify failure'], commandLine()[-4..-1])
        assertTrue(h.commands().find { it.command == 'rollback' && it.params.env == 'production' }.stack.contains("lock:${PROD_LOCK}".toString()))
        assertThisBuildRollback('production', 'alice')
        assertThisBuildRollback('staging', null)
    }

    @Test
    void aFailureBeforeAnyDeployOnlyNotifies() {
        h.runner = failing('validate', null)
        assertNotNull(runPipeline())
        assertEquals(['validate', 'notify failure'], commandLine())
    }

    @Test
    void notifyingSeesTheReportsOfEveryAgent() {
        runPipeline()
        List stashes = h.named('stash').collect { it.args[0].name }
        assertEquals(stashes.size() - 1, h.named('unstash').size()) // all but the notify agent's own
        assertTrue(h.named('unstash').every { inNode(it) })
        assertEquals(stashes.unique(false), stashes)
        assertEquals('nothing is archived by pattern: each result and what it lists, once (issue 14 #9)', [],
            h.named('archiveArtifacts').findAll { it.args[0].artifacts.contains('*') })
    }

    @Test
    void unstableSmokeStopsPromotionWithoutRollback() {
        pipelineSettings.smokeUnstable = true
        h.runner = failing('smoke', 'staging')
        assertNull(runPipeline())
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'notify unstable'], commandLine())
        assertEquals('UNSTABLE', h.currentBuild.currentResult)
        assertEquals([], h.named('input'))
    }

    @Test
    void arejectedOrTimedOutApprovalAbortsWithoutRollbackAndLetsTheNotifyRulesDecide() {
        h.inputAnswer = { Map m -> throw new FlowInterruptedException('rejected by bob') }
        Throwable t = runPipeline()
        assertTrue(t instanceof FlowInterruptedException)
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'notify aborted'], commandLine())
        assertNull(h.currentBuild.result)
    }

    @Test
    void theNotificationKnowsThePreviousResultForFixedRules() {
        h.currentBuild.previousBuild = new FakeBuild(result: 'FAILURE')
        assertNull(runPipeline())
        assertEquals([status: 'success', config: null, results: '.dify-ci/results', previousStatus: 'failure'], h.commands()[-1].params)
    }

    @Test
    void mainBranchPolicyKeepsOtherBranchesOutOfProduction() {
        pipelineSettings.approvalPolicy = 'main-branch'
        h.env.BRANCH_NAME = 'feature/x'
        assertNull(runPipeline())
        assertEquals(['validate', 'plan staging', 'plan production', 'deploy staging', 'smoke staging', 'notify success'], commandLine())
        assertEquals([], h.named('input'))
        h.calls.clear(); h.runs.clear()
        h.env.BRANCH_NAME = 'main'
        runPipeline()
        assertEquals(1, h.named('input').size())
    }

    @Test
    void theBranchComesFromCheckoutOutsideMultibranch() {
        pipelineSettings.approvalPolicy = 'main-branch'
        h.env.BRANCH_NAME = null // the harness checkout reports origin/main
        runPipeline()
        assertEquals(1, h.named('input').size())
    }

    @Test
    void tagsPolicyAsksOnlyForTagBuilds() {
        pipelineSettings.approvalPolicy = 'tags'
        runPipeline()
        assertEquals([], h.named('input'))
        assertFalse(commandLine().contains('deploy production'))
        h.calls.clear(); h.runs.clear()
        h.env.TAG_NAME = 'v1.4.0'
        runPipeline()
        assertEquals(1, h.named('input').size())
        assertTrue(commandLine().contains('deploy production'))
    }


    @Test
    void neverPolicyDeploysWithoutAskingOrClaimingAnApprover() {
        h.contextFor = { String step, String envName ->
            Map c = defaultContext(step, envName)
            c.environmentDetails.production.protected = false
            c
        }
        runPipeline([approvalPolicy: 'never'])
        assertEquals([], h.named('input'))
        assertNull(h.commands().find { it.command == 'deploy' && it.params.env == 'production' }.params.approvedBy)
    }

    @Test
    void aProtectedEnvironmentAlwaysGetsAnApproverBecauseTheRunnerRequiresOne() {
        runPipeline([approvalPolicy: 'never'])
        assertEquals(1, h.named('input').size())
        assertEquals('alice', h.commands().find { it.command == 'deploy' && it.params.env == 'production' }.params.approvedBy)
    }

    @Test
    void smokeReportsAreKeptApartPerEnvironment() {
        runPipeline()
        assertEquals(['.dify-ci/reports/smoke-staging', '.dify-ci/reports/smoke-production'], h.commands().findAll { it.command == 'smoke' }*.params*.reportDir)
    }

    @Test
    void shardsFanOutOverParallelBranchesInsideTheLock() {
        pipelineSettings.shards = 3
        runPipeline()
        List deploys = h.commands().findAll { it.command == 'deploy' && it.params.env == 'production' }
        assertEquals(['1/3', '2/3', '3/3'], deploys*.params*.shard)
        assertEquals(['shard 1/3', 'shard 2/3', 'shard 3/3'], h.named('parallel')[1].args[0])
        for (Map d : deploys) {
            assertTrue(d.stack.contains("lock:${PROD_LOCK}".toString()))
            assertTrue(d.stack.contains("parallel:shard ${d.params.shard}".toString()))
            assertTrue(d.stack.any { it.startsWith('node:') })
        }
        assertEquals('smoke runs once after the fan-out', 1, h.commands().count { it.command == 'smoke' && it.params.env == 'production' })
        assertEquals(['.dify-ci/results/deploy-production-1_3.json', '.dify-ci/results/deploy-production-2_3.json', '.dify-ci/results/deploy-production-3_3.json'],
            deploys*.env*.DIFY_CI_RESULT_FILE.collect { withoutId(it) })
    }

    @Test
    void aFailedShardStillRollsBackTheEnvironmentWhenOthersDeployed() {
        pipelineSettings.shards = 2
        h.nodeWorkspaces = ['/agent-a', '/agent-b', '/agent-c'] // every node block on another agent's files
        Map seen = [:]
        h.runner = recordingRunner(seen) { Map run -> run.command == 'deploy' && run.params.shard == '2/2' && run.params.env == 'production' }
        Throwable t = runPipeline()
        assertEquals('dify-ci deploy: deploy failed [operation]', t.message)
        assertEquals(['rollback production', 'rollback staging', 'notify failure'], commandLine()[-3..-1])
        Map rb = assertThisBuildRollback('production', 'alice')
        assertTrue('still holding the lock', rb.stack.contains("lock:${PROD_LOCK}".toString()))
        assertThisBuildRollback('staging', null)
        List shardStashes = h.named('stash').findAll { it.stack.any { it.startsWith('parallel:shard ') } }.collect { it.args[0].name }
        assertEquals('two shards in each environment', 4, shardStashes.size())
        assertEquals('a chat app\'s pre-deploy backup travels to the rollback agent too (this build\'s, listed by its results)',
            ['.dify-ci/backups/production/bot/deploy-production-1_2.yml', '.dify-ci/backups/production/bot/deploy-production-2_2.yml',
             '.dify-ci/backups/staging/bot/deploy-staging-1_2.yml', '.dify-ci/backups/staging/bot/deploy-staging-2_2.yml'], seen['backups production'])
        int rollbackNode = h.calls.subList(0, shellIndex('dify-ci rollback production')).findLastIndexOf { it.name == 'node' }
        assertTrue(h.calls.subList(rollbackNode, shellIndex('dify-ci rollback production')).findAll { it.name == 'unstash' }.collect { it.args[0] }.containsAll(shardStashes))
        assertEquals('the rollback agent sees both shards\' deploy results, the failed shard\'s too, and staging\'s',
            ['deploy-production-1_2.json': 7, 'deploy-production-2_2.json': 7, 'deploy-staging-1_2.json': 7, 'deploy-staging-2_2.json': 7], seen.production)
        assertEquals(seen.production, seen.staging)
    }

    /** Production has a gray release of `waves` waves (what `dify-ci context` reports); staging has none. */
    protected void productionWaves(int waves, boolean hasSmoke = true) {
        h.contextFor = { String step, String envName ->
            Map c = defaultContext(step, envName)
            c.pipeline = c.pipeline + pipelineSettings
            c.environmentDetails.production.waves = waves
            c.environmentDetails.production.hasSmoke = hasSmoke
            c
        }
    }

    /** "command env [wave K] [shard i/n]" for every runner invocation in `e`. */
    protected List<String> wavesLine(String e) {
        return h.commands().findAll { it.params.env == e }.collect { Map r ->
            ([r.command, r.params.env, r.params.wave != null ? "wave ${r.params.wave}" : null, r.params.shard ? "shard ${r.params.shard}" : null] - null).join(' ')
        }
    }

    @Test
    void shardedWavesDeployEveryShardsPartOfAWaveThenGateItBeforeTheNextInsideTheLock() {
        pipelineSettings.shards = 2
        productionWaves(3)
        assertNull(runPipeline())
        assertEquals(['plan production', 'deploy production wave 1 shard 1/2', 'deploy production wave 1 shard 2/2', 'smoke production wave 1',
                      'deploy production wave 2 shard 1/2', 'deploy production wave 2 shard 2/2', 'smoke production wave 2',
                      'deploy production wave 3 shard 1/2', 'deploy production wave 3 shard 2/2', 'smoke production wave 3',
                      'smoke production'], wavesLine('production'))
        assertEquals('staging (no gray release) keeps the plain sharded deploy',
            ['plan staging', 'deploy staging shard 1/2', 'deploy staging shard 2/2', 'smoke staging'], wavesLine('staging'))
        assertEquals(['Validate', 'Plan', 'Deploy staging', 'Smoke staging', 'Approve production',
                      'Deploy production wave 1/3', 'Gate production wave 1/3', 'Deploy production wave 2/3', 'Gate production wave 2/3',
                      'Deploy production wave 3/3', 'Gate production wave 3/3', 'Smoke production', 'Notify'], h.stages())
        List prod = h.commands().findAll { it.params.env == 'production' && it.command != 'plan' }
        for (Map r : prod) {
            assertTrue("${r.command} ${r.params}".toString(), r.stack.contains("lock:${PROD_LOCK}".toString()))
            assertTrue(inNode(r))
        }
        assertEquals('one lock for all the waves', 1, h.named('lock').count { it.args[0].resource == PROD_LOCK })
        for (Map d : prod.findAll { it.command == 'deploy' }) {
            assertTrue(d.stack.contains("parallel:shard ${d.params.shard}".toString()))
            assertTrue(d.stack.contains("stage:Deploy production wave ${d.params.wave}/3".toString()))
            assertEquals('alice', d.params.approvedBy)
        }
        List gates = prod.findAll { it.command == 'smoke' && it.params.wave != null }
        assertEquals([[env: 'production', config: null, wave: 1, reportDir: '.dify-ci/reports/smoke-production-wave-1'],
                      [env: 'production', config: null, wave: 2, reportDir: '.dify-ci/reports/smoke-production-wave-2'],
                      [env: 'production', config: null, wave: 3, reportDir: '.dify-ci/reports/smoke-production-wave-3']], gates*.params)
        assertTrue('a gate is not in a shard branch', gates.every { !it.stack.any { it.startsWith('parallel:') } && it.stack.contains("stage:Gate production wave ${it.params.wave}/3".toString()) })
        List files = prod.findAll { it.command == 'deploy' }*.env*.DIFY_CI_RESULT_FILE
        assertEquals('every wave of every shard keeps its own result file (the rollback reads them all)', files.unique(false), files)
        assertEquals('.dify-ci/results/deploy-production-wave2-1_2.json', withoutId(files[2]))
        assertNull(h.currentBuild.result)
    }

    @Test
    void aFailedGateStopsBeforeTheNextWaveAndRollsBackEveryWaveThisBuildDeployed() {
        pipelineSettings.shards = 2
        productionWaves(3)
        h.nodeWorkspaces = ['/agent-a', '/agent-b', '/agent-c']
        Map seen = [:]
        h.runner = recordingRunner(seen) { Map run -> run.command == 'smoke' && run.params.wave == 2 }
        Throwable t = runPipeline()
        assertEquals('dify-ci smoke: smoke failed [operation]', t.message)
        assertEquals(['plan production', 'deploy production wave 1 shard 1/2', 'deploy production wave 1 shard 2/2', 'smoke production wave 1',
                      'deploy production wave 2 shard 1/2', 'deploy production wave 2 shard 2/2', 'smoke production wave 2',
                      'rollback production'], wavesLine('production'))
        assertFalse('no wave 3', h.stages().contains('Deploy production wave 3/3'))
        assertFalse('no smoke of the whole environment after a failed gate', h.stages().contains('Smoke production'))
        assertEquals(['rollback production', 'rollback staging', 'notify failure'], commandLine()[-3..-1])
        Map rb = assertThisBuildRollback('production', 'alice')
        assertTrue('still holding the lock', rb.stack.contains("lock:${PROD_LOCK}".toString()))
        assertTrue(h.calls.findIndexOf { it.name == 'stage' && it.args[0] == 'Roll back production' } > h.calls.findIndexOf { it.name == 'stage' && it.args[0] == 'Gate production wave 2/3' })
        assertEquals('the rollback agent sees both waves of both shards',
            ['deploy-production-wave1-1_2.json': 7, 'deploy-production-wave1-2_2.json': 7, 'deploy-production-wave2-1_2.json': 7, 'deploy-production-wave2-2_2.json': 7,
             'deploy-staging-1_2.json': 7, 'deploy-staging-2_2.json': 7], seen.production)
        assertEquals('FAILURE', h.currentBuild.result)
    }

    @Test
    void wavesWithoutShardsOrWithoutSmokeSuites() {
        productionWaves(3)
        assertNull(runPipeline())
        assertEquals('one agent: the runner\'s own rollout gates the waves', ['plan production', 'deploy production', 'smoke production'], wavesLine('production'))
        assertTrue(h.stages().contains('Deploy production'))

        setUp()
        pipelineSettings.shards = 2
        productionWaves(2, false)
        assertNull(runPipeline())
        assertEquals('no smoke suite: each wave is gated by its deploys (a failed shard fails the build)',
            ['plan production', 'deploy production wave 1 shard 1/2', 'deploy production wave 1 shard 2/2', 'deploy production wave 2 shard 1/2', 'deploy production wave 2 shard 2/2'],
            wavesLine('production'))
        assertEquals(['Deploy production wave 1/2', 'Deploy production wave 2/2'], h.stages().findAll { it.contains('production wave') })
    }

    @Test
    void resultsLeftOnAnAgentByAnEarlierBuildNeverHideThisBuildsDeploysFromTheRollback() {
        pipelineSettings.shards = 2
        h.nodeWorkspaces = ['/agent-a', '/agent-b']
        for (String ws : h.nodeWorkspaces) {
            for (String f : ['deploy-production-1_2.json', 'deploy-production-2_2.json', 'deploy-staging-1_2.json', 'deploy-staging-2_2.json', 'deploy-staging.json']) {
                h.files["${ws}/.dify-ci/results/${f}".toString()] = JsonOutput.toJson(okResult('deploy', [data: [build: 6]]))
            }
        }
        Map seen = [:]
        h.runner = recordingRunner(seen) { Map run -> run.command == 'smoke' && run.params.env == 'production' }
        assertNotNull(runPipeline())
        assertEquals('this build\'s files only, none of build 6 (deploy-staging.json is from an unsharded earlier build)',
            ['deploy-production-1_2.json': 7, 'deploy-production-2_2.json': 7, 'deploy-staging-1_2.json': 7, 'deploy-staging-2_2.json': 7], seen.production)
        assertEquals(seen.production, seen.staging)
    }

    @Test
    void aStashThatWasNeverSavedDoesNotStopTheRollback() {
        h.lostStashes << 'dify-ci-2' // the staging deploy's agent, e.g. lost before its stash completed
        h.runner = failing('smoke', 'production')
        Throwable t = runPipeline()
        assertEquals('the original failure is what the build reports', 'dify-ci smoke: smoke failed in production [operation]', t.message)
        assertEquals(['rollback production', 'rollback staging'], commandLine()[-2..-1])
        assertThisBuildRollback('production', 'alice')
        List warnings = h.named('echo').collect { it.args[0] as String }.findAll { it.contains('dify-ci-2') }
        assertEquals(3, warnings.size())
        assertTrue(warnings[0], warnings[0].startsWith('dify-ci: cannot unstash dify-ci-2 (No such saved stash'))
        assertTrue('notify still needs every agent (as before)', warnings[2].startsWith('dify-ci: notification failed: No such saved stash'))
        assertEquals('FAILURE', h.currentBuild.result)
    }

    @Test
    void theNotificationAfterARollbackSeesEveryResultOnce() {
        h.nodeWorkspaces = ['/agent-a', '/agent-b', '/agent-c']
        h.runner = failing('smoke', 'production')
        runPipeline()
        int notify = shellIndex('dify-ci notify')
        int node = h.calls.subList(0, notify).findLastIndexOf { it.name == 'node' }
        List saved = h.calls.subList(0, node).findAll { it.name == 'stash' }.collect { it.args[0].name }
        assertEquals('the rollback nodes\' stashes too', saved, h.calls.subList(node + 1, notify).findAll { it.name == 'unstash' }.collect { it.args[0] })
        assertEquals('stash names stay unique', saved.unique(false), saved)
        String ws = h.commands()[-1].resultFile.replaceFirst('/\\.dify-ci/results/.*$', '')
        List results = h.files.keySet().findAll { it.startsWith("${ws}/.dify-ci/results/".toString()) }.collect { withoutId(it.substring(ws.length() + 18)) }.sort()
        assertEquals(['deploy-production.json', 'deploy-staging.json', 'notify.json', 'plan-production.json', 'plan-staging.json', 'rollback-production.json',
                      'rollback-staging.json', 'smoke-production.json', 'smoke-staging.json', 'validate.json'], results)
    }

    @Test
    void manualRollbackEntryPointRollsBackOneEnvironmentToAVersion() {
        h.params.DIFY_ROLLBACK_ENV = 'production'
        h.params.DIFY_ROLLBACK_TO = 'v41'
        assertNull(runPipeline())
        assertEquals(['Approve production', 'Roll back production', 'Notify'], h.stages())
        assertEquals([message: 'Roll back production?', ok: 'Roll back production', submitterParameter: 'approver', submitter: 'release-managers,bob'], h.named('input')[0].args[0])
        assertEquals(['rollback production', 'notify success'], commandLine())
        Map rb = h.commands()[0]
        assertEquals('v41', rb.params.to)
        assertEquals('alice', rb.params.approvedBy)
        assertTrue(rb.stack.contains("lock:${PROD_LOCK}".toString()))
        assertFalse(inNode(h.named('input')[0]))
    }

    @Test
    void theRunnersGateDecidesTheManualRollbacksApproval() {
        h.params.DIFY_ROLLBACK_ENV = 'staging' // needs no approval: 'go'
        assertNull(runPipeline())
        assertEquals([], h.named('input'))
        assertNull(h.commands()[0].params.approvedBy)
        h.calls.clear(); h.runs.clear()
        h.params.DIFY_ROLLBACK_ENV = 'production'
        pipelineSettings.approvalPolicy = 'tags' // no tag: 'stop' for a deploy, but a rollback still asks
        assertNull(runPipeline())
        assertEquals(1, h.named('input').size())
        assertEquals('alice', h.commands()[0].params.approvedBy)
    }

    @Test
    void theContextGetsTheOptionsAndTheBuildFactsAfterTheCheckout() {
        h.env.BRANCH_NAME = null
        h.params.DIFY_DEPLOY_TAG = 'v1.2.0'
        runPipeline([approvalPolicy: 'tags', everyNth: 3, config: 'ci/dify-ci.yml', pollSCM: 'H/5 * * * *', jobProperties: true])
        Map ctx = h.runs.find { it.command == 'context' && it.params.step == 'pipeline' }
        assertEquals('Groovy-only options stay in Groovy; the branch is the checkout\'s',
            [step: 'pipeline', env: null, config: 'ci/dify-ci.yml', overrides: [approvalPolicy: 'tags', everyNth: 3], branch: 'main', tag: 'v1.2.0'], ctx.params)
        assertTrue(h.calls.findIndexOf { it.name == 'checkout' } < h.calls.findIndexOf { it.name == 'sh' && it.args[0].label.toString() == 'dify-ci context pipeline' })
        h.calls.clear(); h.runs.clear()
        h.params.DIFY_DEPLOY_TAG = ''
        h.env.TAG_NAME = 'v1.4.0'
        runPipeline()
        assertEquals('a multibranch tag build', 'v1.4.0', h.runs.find { it.command == 'context' && it.params.step == 'pipeline' }.params.tag)
    }

    @Test
    void manualRollbackOfAnUnknownEnvironmentFailsClearly() {
        h.params.DIFY_ROLLBACK_ENV = 'prod'
        Throwable t = runPipeline()
        assertEquals("DIFY_ROLLBACK_ENV: no environment 'prod' in dify-ci.yml (known: staging, production)", t.message)
        assertEquals(['notify failure'], commandLine())
    }


    @Test
    void aMalformedTagIsRejectedBeforeAnyCheckout() {
        h.params.DIFY_DEPLOY_TAG = '--upload-pack=evil'
        Throwable t = runPipeline()
        assertEquals("DIFY_DEPLOY_TAG '--upload-pack=evil' is not a tag name", t.message)
        assertEquals([], h.named('checkout'))
    }

    @Test
    void theNodejsToolIsPutOnPathInEveryAgent() {
        pipelineSettings.nodejsTool = 'node-20'
        runPipeline([agentLabel: 'linux'])
        assertTrue(h.named('node').every { it.args == ['linux'] })
        List tools = h.named('tool')
        assertEquals('every agent, the first one once the configuration was read', h.named('node').size(), tools.size())
        assertTrue(h.calls.findIndexOf { it.name == 'tool' } > h.calls.findIndexOf { it.name == 'sh' && it.args[0].label.toString() == 'dify-ci context pipeline' })
        assertTrue(tools.every { it.args[0] == [name: 'node-20', type: 'jenkins.plugins.nodejs.tools.NodeJSInstallation'] })
        assertTrue(h.commands().every { it.env['PATH+NODEJS'] == '/tools/node20/bin' })
    }

    @Test
    void optionsOverrideTheConfigurationAndUnknownOptionsAreRejected() {
        runPipeline([environments: ['staging'], config: 'ci/dify-ci.yml'])
        assertEquals(['validate', 'plan staging', 'deploy staging', 'smoke staging', 'notify success'], commandLine())
        assertTrue(h.runs.every { it.params.config == 'ci/dify-ci.yml' })
        h.calls.clear(); h.runs.clear()
        Throwable t = runPipeline([aprovalPolicy: 'never'])
        assertEquals('the runner knows every option name (docs/steps.yml); Groovy keeps no list of its own',
            "dify-ci context: difyPipeline: unknown option 'aprovalPolicy' [usage]", t.message)
        assertEquals([], h.commands())
        assertEquals([], h.stages())
    }

    @Test
    void anUnknownEnvironmentInTheEnvironmentsOptionFailsClearlyBeforeAnyStage() {
        Throwable t = runPipeline([environments: ['staging', 'prod']])
        assertTrue(t instanceof PipelineError)
        assertEquals("dify-ci context: difyPipeline: environments: no environment 'prod' in dify-ci.yml (known: staging, production) [usage]", t.message)
        assertEquals('the runner resolved the options', [overrides: [environments: ['staging', 'prod']], branch: 'main', tag: null],
            h.runs[0].params.subMap(['overrides', 'branch', 'tag']))
        // The context is what the pipeline notifies with: without one (options the runner refused) nothing is notified.
        assertEquals('nothing validated, planned, deployed or notified', [], commandLine())
        assertEquals([], h.stages())
        assertEquals('FAILURE', h.currentBuild.result)
    }

    @Test
    void theKnownEnvironmentsComeFromTheRunnersContext() {
        h.contextFor = { String step, String envName ->
            Map c = defaultContext(step, envName)
            c.environments = ['qa', 'staging', 'production']
            c.environmentDetails.qa = c.environmentDetails.staging
            c
        }
        assertNull(runPipeline([environments: ['qa']]))
        assertEquals(['validate', 'plan qa', 'deploy qa', 'smoke qa', 'notify success'], commandLine())
        Throwable t = runPipeline([environments: ["${'stag'}ing", 'dev']]) // a GString names an environment too
        assertEquals("dify-ci context: difyPipeline: environments: no environment 'dev' in dify-ci.yml (known: qa, staging, production) [usage]", t.message)
        t = runPipeline([environments: 'staging'])
        assertEquals("dify-ci context: difyPipeline: environments must be a list of environment keys, e.g. ['staging', 'production'] (got staging) [usage]", t.message)
    }

    @Test
    void everyNthMustBeAWholeNumberOfAtLeastOne() {
        Map bad = [0: '0', (-3): '-3', '3': "'3'", 2.5: '2.5', (null): 'null']
        bad.each { Object value, String shown ->
            h.calls.clear(); h.runs.clear()
            Throwable t = runPipeline([approvalPolicy: 'every-nth', everyNth: value])
            assertTrue("${value}", t instanceof PipelineError)
            assertEquals("dify-ci context: difyPipeline: everyNth must be a whole number \u2265 1 (got ${shown}) [usage]".toString(), t.message)
            assertEquals('the runner got the value as given', value, h.runs[0].params.overrides.everyNth)
            assertEquals('rejected by the context, before any stage', [[], []], [h.commands(), h.stages()])
        }
        h.calls.clear(); h.runs.clear()
        assertNull(runPipeline([approvalPolicy: 'every-nth', everyNth: 1])) // the main branch, every good build
        assertEquals(1, h.named('input').size())
        h.calls.clear(); h.runs.clear()
        assertNull(runPipeline([approvalPolicy: 'every-nth', everyNth: 1L]))
        assertEquals(1, h.named('input').size())
    }

    @Test
    void theJobGetsTheManualEntryPointParametersAndOptionalPolling() {
        runPipeline([pollSCM: 'H/5 * * * *'])
        List props = h.named('properties')[0].args[0]
        assertEquals(['DIFY_DEPLOY_TAG', 'DIFY_ROLLBACK_ENV', 'DIFY_ROLLBACK_TO', 'DIFY_ROLLBACK_APP'], props[0].args[0]*.name)
        assertEquals('pipelineTriggers', props[1].$symbol)
        h.calls.clear()
        runPipeline([jobProperties: false])
        assertEquals([], h.named('properties'))
    }

    @Test
    void everyShellScriptInTheWholePipelineIsAConstant() {
        h.runner = failing('smoke', 'production')
        runPipeline()
        List shells = h.calls.findAll { it.name in ['sh', 'bat'] }
        assertTrue(shells.size() > 10)
        assertTrue(shells.every { it.args[0].script in CONSTANT_SCRIPTS })
    }

    @Test
    void windowsAgentsRunThePipelineWithBat() {
        h.unix = false
        pipelineSettings.nodejsTool = 'node-20'
        assertNull(runPipeline())
        assertEquals([], h.named('sh'))
        assertTrue(h.commands().every { it.env['PATH+NODEJS'] == '/tools/node20' })
    }
}
