import static org.junit.Assert.*

import harness.PipelineHarness
import harness.Vars
import org.junit.After
import org.junit.Rule
import org.junit.rules.TestName
import org.junit.runner.RunWith
import org.junit.runners.Parameterized

/**
 * Tests that run in both engines: plain Groovy, then Jenkins' own CPS interpreter (where ../shared/jenkins-cps is,
 * see run.sh), which saves the program at every step. Each test's assertions hold in both; in the CPS run the step
 * sequence must also equal the plain run's, and no save point may meet anything it cannot serialize.
 */
@RunWith(Parameterized)
abstract class EngineTest {
    @Parameterized.Parameters(name = '{0}')
    static Collection<Object[]> engines() {
        List<Object[]> out = [['plain'] as Object[]]
        if (System.getProperty('dify.cps') == 'on') {
            out << (['cps'] as Object[])
        }
        return out
    }

    /** The plain run's steps, per test, for the CPS run to match (Parameterized runs every plain test first). */
    private static final Map<String, List<Map>> PLAIN_CALLS = [:]
    /** CPS runs compared with their plain run, for RunAll's summary. */
    static int compared = 0

    @Rule
    public TestName testName = new TestName()
    final String engine
    PipelineHarness h

    EngineTest(String engine) {
        this.engine = engine
        Vars.engine = engine
    }

    @After
    void theSameStepsInJenkinsEngine() {
        Vars.engine = 'plain'
        if (h == null) {
            return
        }
        String key = "${getClass().name}.${testName.methodName.replaceFirst(/\[.*\]$/, '')}".toString()
        if (engine == 'plain') {
            PLAIN_CALLS[key] = new ArrayList<Map>(h.calls)
            return
        }
        assertEquals('serialization problems at save points', [], h.serializationProblems)
        assertTrue('the program was saved at every step', h.calls.isEmpty() || h.savePoints > 0)
        if (PLAIN_CALLS.containsKey(key)) {
            assertEquals('the same steps as the plain engine', PLAIN_CALLS[key], h.calls)
            compared++
        }
    }
}
