// difyValidate: checks every app's DSL offline (dify-ci validate). Parameters: vars/difyValidate.txt.
def call(Map params = [:]) {
    return difyRun('validate', params)
}
