// difyRollback: restores the previous (or a given) version in one environment (dify-ci rollback).
// Parameters: vars/difyRollback.txt.
def call(Map params = [:]) {
    return difyRun('rollback', params)
}
