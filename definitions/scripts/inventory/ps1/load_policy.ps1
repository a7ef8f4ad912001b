# load_policy: the lists of a YAML policy (required_files, recommended_files, forbidden_files),
# written as block lists (`- name`) or flow lists (`[a, b]`).
# Output (stdout, JSON): { policy_rules: {required_files, recommended_files, forbidden_files}, required_files }
param([Parameter(Mandatory = $true)][string]$Policy)
. "$PSScriptRoot/common.ps1"

$file = Resolve-FromCaller $Policy
if (-not (Test-Path -LiteralPath $file -PathType Leaf)) { Fail "policy file $Policy does not exist" }
$keys = 'required_files', 'recommended_files', 'forbidden_files'
$rules = [ordered]@{ required_files = @(); recommended_files = @(); forbidden_files = @() }
function Unquote([string]$s) { $s = $s.Trim(); if ($s -match '^"(.*)"$' -or $s -match "^'(.*)'$") { $s = $Matches[1] }; return $s }
$current = $null
foreach ($raw in Get-Content -LiteralPath $file) {
    $line = $raw -replace '\s+#.*$', ''
    if ($line -match '^\s*#') { continue }
    if ($line -match '^([A-Za-z_]+):\s*(.*)$') {
        $current = if ($keys -contains $Matches[1]) { $Matches[1] } else { $null }
        $rest = $Matches[2]
        if ($current -and $rest -match '^\[(.*)\]$') {
            $rules[$current] = @($Matches[1].Split(',') | ForEach-Object { Unquote $_ } | Where-Object { $_ })
            $current = $null
        }
        continue
    }
    if ($current -and $line -match '^\s*-\s+(.*)$') { $v = Unquote $Matches[1]; if ($v) { $rules[$current] += $v }; continue }
    if ($line -match '^\S') { $current = $null }
}
if (($rules.required_files.Count + $rules.recommended_files.Count + $rules.forbidden_files.Count) -eq 0) {
    Fail "policy $Policy lists no required_files, recommended_files or forbidden_files" 3
}
Write-TaskOutput ([ordered]@{ policy_rules = $rules; required_files = $rules.required_files })
