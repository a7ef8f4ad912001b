# Shared by the inventory validation scripts (PowerShell 7, pwsh). Dot-sourced: . "$PSScriptRoot/common.ps1"
Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

# Relative paths in inputs are meant from where ledgerflow was started (LF_INIT_CWD), not from
# the script's working directory (the definition's directory).
function Resolve-FromCaller([string]$Path) {
    if ([System.IO.Path]::IsPathRooted($Path)) { return $Path }
    $base = if ($env:LF_INIT_CWD) { $env:LF_INIT_CWD } else { (Get-Location).Path }
    return Join-Path $base $Path
}

# The task's input: ledgerflow writes it to stdin as JSON.
function Read-TaskInput {
    $text = [Console]::In.ReadToEnd()
    if ([string]::IsNullOrWhiteSpace($text)) { return [pscustomobject]@{} }
    return $text | ConvertFrom-Json
}

# The task's output: one JSON document on stdout.
function Write-TaskOutput($Value) {
    [Console]::Out.WriteLine(($Value | ConvertTo-Json -Depth 10 -Compress))
}

# Fails the attempt: the message on stderr (quoted in the run's history), exit 1 (retryable).
function Fail([string]$Message, [int]$Code = 1) {
    [Console]::Error.WriteLine($Message)
    exit $Code
}
