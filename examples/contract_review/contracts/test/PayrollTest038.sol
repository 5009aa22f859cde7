// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Payroll
/// @notice A payroll account that credits payees.
contract PayrollTest038 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public admin;
    uint256 public feeBps;
    uint256 public poolTotal;
    bool public paused;
    mapping(address => uint256) public balances;
    mapping(address => bool) public isMember;
    address[] public participants;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == admin, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        admin = msg.sender;
        feeBps = initialFee;
    }

    /// @notice Return `account`'s whole balance to it.
    function returnFunds(address payable account) external onlyOwner {
        uint256 amount = balances[account];
        balances[account] = 0;
        poolTotal -= amount;
        (bool ok, ) = account.call{value: amount}("");
        require(ok, "refund failed");
        emit Withdrawn(account, amount);
    }

    /// @notice Stop or resume deposits.
    function setPaused(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the ether sent to the caller's balance.
    function contribute() external payable {
        require(!paused, "paused");
        require(msg.value >= MIN_DEPOSIT, "below minimum");
        balances[msg.sender] += msg.value;
        poolTotal += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function collectFees(address payable to, uint256 amount) external {
        require(to != address(0), "zero address");
        require(address(this).balance - poolTotal >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }

    function accountedEther() external view returns (uint256) {
        return poolTotal;
    }

    /// @notice Send the caller's whole balance back to the caller.
    function exitPool() external {
        uint256 amount = balances[msg.sender];
        require(amount > 0, "nothing to claim");
        balances[msg.sender] = 0;
        poolTotal -= amount;
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice Add the caller to the member list once.
    function register() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        participants.push(msg.sender);
    }

    /// @notice Credit `share` to members `start` .. `start + count` (at most MAX_BATCH).
    function creditBatch(uint256 start, uint256 count, uint256 share) external onlyOwner {
        require(count <= MAX_BATCH, "batch too large");
        uint256 end = start + count;
        require(end <= participants.length, "past the end");
        for (uint256 i = start; i < end; i++) {
            balances[participants[i]] += share;
        }
        poolTotal += share * count;
    }
}
